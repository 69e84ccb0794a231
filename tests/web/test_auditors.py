"""The audit trail page: filters, paging, the integrity badge (also when the chain is broken), and CSV / JSONL
export of exactly the filtered events; the dashboard page."""

from __future__ import annotations

import csv
import io
import json

from flask.testing import FlaskClient
from sqlalchemy import text

from engine.db.database import Database
from engine.services import audit, instances
from tests.conftest import IVAN
from tests.web.conftest import sign_in
from tests.web.support import closed_incident, seed_history


def _rows(client: FlaskClient, query: str) -> list[dict[str, str]]:
    response = client.get(f"/audit/export?format=csv&{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment; filename=" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_trail_filters(client: FlaskClient, ui_db: Database) -> None:
    done = closed_incident(ui_db)
    waiting = instances.start(ui_db, IVAN, "response", {}).business_key
    sign_in(client, "heidi")
    html = client.get("/audit").get_data(as_text=True)
    assert "Trail intact" in html and done in html and waiting in html
    html = client.get("/audit?actor=bob").get_data(as_text=True)
    assert "<td>bob</td>" in html and "<td>alice</td>" not in html
    html = client.get("/audit?type=decision.evaluated").get_data(as_text=True)
    assert "priority_r2" in html and "task.completed" not in html.split('<table class="grid trail"')[1]
    html = client.get("/audit?status=running").get_data(as_text=True)
    assert waiting in html and done not in html.split('<table class="grid trail"')[1]
    html = client.get("/audit?process=long_form").get_data(as_text=True)
    assert "No event matches." not in html and "process.deployed" in html  # its deployment event
    html = client.get("/audit?from=2001-01-01&to=2001-01-02").get_data(as_text=True)
    assert "No event matches." in html
    assert client.get("/audit?from=someday").status_code == 400
    assert client.get("/audit?status=weird").status_code == 400


def test_trail_pages_back_in_time(client: FlaskClient, ui_db: Database) -> None:
    for _ in range(6):  # more than the 100 events of a page
        closed_incident(ui_db)
    sign_in(client, "heidi")
    html = client.get("/audit").get_data(as_text=True)
    assert "Older events" in html
    cursor = html.split("before=", 1)[1].split('"', 1)[0]
    older = client.get(f"/audit?before={cursor}").get_data(as_text=True)
    assert f"<td class=\"num\">{int(cursor) - 1}</td>" in older


def test_export_is_the_filtered_trail(client: FlaskClient, ui_db: Database) -> None:
    done = closed_incident(ui_db)
    closed_incident(ui_db)
    sign_in(client, "heidi")
    rows = _rows(client, f"q={done}&type=task.")
    assert rows and {r["business_key"] for r in rows} == {done}
    assert all(r["type"].startswith("task.") for r in rows)
    assert [int(r["seq"]) for r in rows] == sorted(int(r["seq"]) for r in rows)  # oldest first
    assert list(rows[0]) == ["seq", "at", "actor", "type", "instance_id", "business_key", "process", "element_id",
                             "element_name", "data", "prev_hash", "hash"]
    jsonl = client.get(f"/audit/export?format=jsonl&q={done}&type=task.").get_data(as_text=True)
    events = [json.loads(line) for line in jsonl.splitlines()]
    assert [e["seq"] for e in events] == [int(r["seq"]) for r in rows]


def test_an_unfiltered_jsonl_export_verifies_offline(client: FlaskClient, ui_db: Database) -> None:
    closed_incident(ui_db)
    sign_in(client, "heidi")
    response = client.get("/audit/export?format=jsonl")
    assert response.mimetype == "application/x-ndjson"
    events = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert events[0]["seq"] == 1
    assert audit.verify_rows(events).ok


def test_export_format_is_checked(client: FlaskClient) -> None:
    sign_in(client, "heidi")
    assert client.get("/audit/export?format=xml").status_code == 400


def test_a_broken_chain_shows_on_the_badge(client: FlaskClient, ui_db: Database) -> None:
    closed_incident(ui_db)
    with ui_db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE seq = 5"))
    sign_in(client, "heidi")
    html = client.get("/audit").get_data(as_text=True)
    assert 'class="badge integrity integrity-bad" id="integrity" role="alert"' in html
    assert "Trail broken at event 5" in html


def test_dashboard_page(client: FlaskClient, ui_db: Database) -> None:
    seed_history(ui_db)
    sign_in(client, "carol")
    html = client.get("/dashboard").get_data(as_text=True)
    assert '<span class="tile-value" id="m-overdue">2</span>' in html
    assert '<span class="tile-value" id="m-escalations">1</span>' in html
    assert html.count('<svg class="chart') >= 4
    assert 'id="breakdown-' not in html  # no deployed process declares a dashboard breakdown
    week = client.get("/dashboard?days=7").get_data(as_text=True)
    assert week.count('class="col"') == 2 * 7  # opened and closed per day
    assert client.get("/dashboard?from=2026-02-01&to=2026-01-01").status_code == 400
    assert client.get("/dashboard?from=2020-01-01&to=2026-01-01").status_code == 400
