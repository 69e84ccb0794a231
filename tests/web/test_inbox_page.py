"""The inbox page through the test client: filters with counts, sortable columns, pages by cursor, bulk claim
and assign, assigning from the task page."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from engine.db.database import Database
from engine.services import instances
from tests.conftest import ALICE, IVAN
from tests.web.conftest import sign_in
from tests.web.support import INCIDENT, open_task, work


def _keys(html: str) -> list[str]:
    return re.findall(r'<tr class="sla-row-[a-z-]+" data-task-id="[^"]+" data-business-key="([^"]+)"', html)


def test_filters_sorting_and_pages(client: FlaskClient, ui_db: Database) -> None:
    keys = [instances.start(ui_db, IVAN, "response", {"summary": f"Printer {n}"}).business_key for n in range(5)]
    work(ui_db, ALICE, keys[0], "record", {**INCIDENT, "impact": "high", "urgency": "high"})  # to the resolvers
    sign_in(client, "alice")
    html = client.get("/inbox?sort=-record").get_data(as_text=True)
    assert _keys(html) == keys[1:][::-1] and "4 tasks" in html
    assert 'aria-sort="descending"' in html
    first = client.get("/inbox?sort=record&limit=2").get_data(as_text=True)
    assert _keys(first)[:1] == [keys[1]]
    html = client.get("/inbox?tab=all&priority=P1").get_data(as_text=True)
    assert _keys(html) == [keys[0]] and "1 task match" in html and 'id="clear-filters"' in html
    html = client.get("/inbox?tab=all&q=Printer 3").get_data(as_text=True)
    assert _keys(html) == [keys[3]]
    html = client.get("/inbox?tab=all&role=resolver").get_data(as_text=True)
    assert _keys(html) == [keys[0]]
    for bad in ("sort=colour", "due_from=soon", "cursor=rubbish", "sla=late"):
        resp = client.get(f"/inbox?{bad}")
        assert resp.status_code == 400 and 'id="filter-problem"' in resp.get_data(as_text=True)
        assert 'id="inbox-table"' in resp.get_data(as_text=True)


def test_pages_walk_by_cursor(client: FlaskClient, ui_db: Database) -> None:
    keys = [instances.start(ui_db, IVAN, "response", {"summary": f"r{n}"}).business_key for n in range(55)]
    sign_in(client, "alice")
    html = client.get("/inbox?sort=record").get_data(as_text=True)
    assert _keys(html) == keys[:50] and "55 tasks" in html and "page 1" in html
    nxt = re.search(r'id="next-page" href="([^"]+)"', html)
    assert nxt
    html = client.get(nxt.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert _keys(html) == keys[50:] and "page 2" in html and 'id="next-page"' not in html


def test_bulk_claim_and_assign(client: FlaskClient, ui_db: Database) -> None:
    keys = [instances.start(ui_db, IVAN, "response", {"summary": f"r{n}"}).business_key for n in range(3)]
    ids = [open_task(ui_db, k, "record")["id"] for k in keys]
    token = sign_in(client, "alice")
    resp = client.post("/inbox/bulk", data={"csrf_token": token, "action": "claim", "ids": ids[:2],
                                            "next": "/inbox?tab=mine"}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "2 of 2 tasks claimed." in html and set(_keys(html)) == set(keys[:2])
    resp = client.post("/inbox/bulk", data={"csrf_token": token, "action": "assign", "ids": [ids[2]],
                                            "assignee": "bob", "next": "/inbox"}, follow_redirects=True)
    assert "0 of 1 task assigned to bob." in resp.get_data(as_text=True)  # bob is no service desk
    assert "Not assigned: bob cannot work on" in resp.get_data(as_text=True)
    assert client.post("/inbox/bulk", data={"csrf_token": token, "action": "claim"},
                       follow_redirects=True).status_code == 200
    sign_in(client, "bob")
    token = sign_in(client, "bob")
    resp = client.post("/inbox/bulk", data={"csrf_token": token, "action": "assign", "ids": [ids[2]],
                                            "assignee": "alice"}, follow_redirects=True)
    assert "only service_desk, admin may assign tasks to people" in resp.get_data(as_text=True)


def test_assign_from_the_task_page(client: FlaskClient, ui_db: Database) -> None:
    key = instances.start(ui_db, IVAN, "response", {"summary": "Printer"}).business_key
    task = open_task(ui_db, key, "record")
    token = sign_in(client, "admin")
    html = client.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert 'id="assign-form"' in html and "<option>alice</option>" in html
    resp = client.post(f"/tasks/{task['id']}/assign", data={"csrf_token": token, "assignee": "alice"},
                       follow_redirects=True)
    assert "is now with alice" in resp.get_data(as_text=True)
    resp = client.post(f"/tasks/{task['id']}/assign", data={"csrf_token": token, "assignee": "ivan"},
                       follow_redirects=True)
    assert "Not assigned: ivan cannot work on" in resp.get_data(as_text=True)
    sign_in(client, "bob")
    assert 'id="assign-form"' not in client.get(f"/tasks/{task['id']}").get_data(as_text=True)
