"""The processes page as a process owner uses it between deployments: drafts listed and discarded, rollback to
an earlier version with a reason, the table diff page; and the modeller offering the owner's draft."""

from __future__ import annotations

from flask.testing import FlaskClient

from engine.db.database import Database
from engine.services import drafts
from tests.support import OWNER, deploy_xml
from tests.web.conftest import sign_in
from tests.web.support import FIXTURES

RESPONSE = (FIXTURES / "response" / "response.bpmn").read_text()


def test_rollback_from_the_processes_page(client: FlaskClient, ui_db: Database) -> None:
    deploy_xml(ui_db, RESPONSE.replace('name="Restore service"', 'name="Restore"'))
    token = sign_in(client, "grace")
    page = client.get("/processes").get_data(as_text=True)
    assert "Roll back to v1" in page and "Roll back to v2" not in page  # v2 is in force
    resp = client.post("/processes/response/versions/1/rollback", data={"csrf_token": token, "comment": "too terse"})
    assert resp.status_code == 302
    page = client.get("/processes").get_data(as_text=True)
    assert "Rolled response back to v1: it is now v3" in page
    assert "rollback to v1: too terse" in page and "(rollback)" in page
    again = client.post("/processes/response/versions/3/rollback", data={"csrf_token": token})
    assert "Not rolled back" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert client.post("/processes/response/versions/1/rollback", data={}).status_code == 403  # no CSRF token
    sign_in(client, "heidi")
    assert "Roll back to" not in client.get("/processes").get_data(as_text=True)


def test_drafts_on_the_processes_page_and_in_the_modeller(client: FlaskClient, ui_db: Database) -> None:
    saved = drafts.save(ui_db, OWNER, "response", RESPONSE.encode())
    token = sign_in(client, "grace")
    assert "Draft by grace" in client.get("/processes").get_data(as_text=True)
    modeller = client.get("/processes/response/modeller").get_data(as_text=True)
    assert 'id="draft-notice"' in modeller and f"draft={saved['id']}" in modeller
    opened = client.get(f"/processes/response/modeller?draft={saved['id']}").get_data(as_text=True)
    assert "editing your draft" in opened and f"/drafts/{saved['id']}/bpmn" in opened
    assert client.get("/processes/response/modeller?draft=999").status_code == 400

    sign_in(client, "admin")
    admin_view = client.get("/processes/response/modeller").get_data(as_text=True)
    assert 'id="other-drafts"' in admin_view and 'id="draft-notice"' not in admin_view

    token = sign_in(client, "grace")
    client.post(f"/processes/response/drafts/{saved['id']}/discard", data={"csrf_token": token})
    assert "Draft by grace" not in client.get("/processes").get_data(as_text=True)


def test_the_table_diff_page(client: FlaskClient, ui_db: Database) -> None:
    import io

    dmn = (FIXTURES / "response" / "priority.dmn").read_text()
    changed = dmn.replace('<rule id="priority_r1">', '<rule id="priority_r1"><description>why</description>', 1)
    token = sign_in(client, "grace")
    resp = client.post("/api/v1/decisions/priority/versions", headers={"X-CSRF-Token": token},
                       data={"dmn": (io.BytesIO(changed.encode()), "priority.dmn"), "comment": "explained"})
    assert resp.status_code == 201, resp.json
    page = client.get("/decisions/priority/diff").get_data(as_text=True)
    assert 'data-rule-id="priority_r1"' in page and "annotation" in page and "explained" in page
    assert "rules changed from v1" in client.get("/processes").get_data(as_text=True)
    sign_in(client, "bob")
    assert client.get("/decisions/priority/diff").status_code == 403
    sign_in(client, "heidi")
    assert client.get("/decisions/priority/diff?base=1&target=9").status_code == 404


def test_the_migration_page_refuses_bad_input_and_keeps_it(client: FlaskClient, ui_db: Database) -> None:
    deploy_xml(ui_db, RESPONSE.replace('name="Restore service"', 'name="Restore"'))
    token = sign_in(client, "grace")
    assert "Move running records" in client.get("/processes").get_data(as_text=True)
    same = client.get("/processes/response/migrate?from=1&to=1")
    assert same.status_code == 400 and "must differ from from_version" in same.get_data(as_text=True)
    bad_map = client.get("/processes/response/migrate?from=1&to=2&map=restore")
    assert bad_map.status_code == 400 and "line 1 of the element map" in bad_map.get_data(as_text=True)
    unknown = client.get("/processes/response/migrate?from=1&to=2&map=nope+%3D+restore")
    assert unknown.status_code == 400 and "v1 has no element" in unknown.get_data(as_text=True)
    empty = client.get("/processes/response/migrate?from=1&to=2").get_data(as_text=True)
    assert "No running record of response is on v1" in empty
    no_reason = client.post("/processes/response/migrate", data={"csrf_token": token, "from": "1", "to": "2"})
    assert no_reason.status_code == 400 and "say why" in no_reason.get_data(as_text=True)
