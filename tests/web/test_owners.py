"""Process owners through the test client: upload from a desktop modeller, the modeller's preview and its
deploy through the API with the session cookie and X-CSRF-Token, refused deployments with their problems,
version diffs."""

from __future__ import annotations

import io
import json
import re

from flask.testing import FlaskClient

from engine.db.database import Database, unit_of_work
from engine.services import deploy
from tests.web.conftest import sign_in
from tests.web.support import FIXTURES

RESPONSE = (FIXTURES / "response" / "response.bpmn").read_text()
RENAMED = RESPONSE.replace('name="Restore service"', 'name="Restore the service"').replace(
    '<camunda:formField id="closure_note" label="Closure note" type="string" />',
    '<camunda:formField id="closure_note" label="Closure note" type="string">'
    '<camunda:validation><camunda:constraint name="required" /></camunda:validation></camunda:formField>')
WIZARDS = RESPONSE.replace('<bpmn:userTask id="close" name="Close the record">',
                           '<bpmn:userTask id="close" name="Close the record" camunda:candidateGroups="wizards">')


def _file(text: str, name: str = "response.bpmn") -> tuple[io.BytesIO, str]:
    return io.BytesIO(text.encode()), name


def _latest(db: Database) -> int:
    with unit_of_work(db) as uow:
        row = deploy.latest(uow, "response")
        assert row is not None
        return row.version


def test_upload_deploys_the_next_version(client: FlaskClient, ui_db: Database) -> None:
    token = sign_in(client, "grace")
    response = client.post("/processes/upload", data={"csrf_token": token, "bpmn": _file(RENAMED)},
                           content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"] == "/processes#process-response"
    assert _latest(ui_db) == 2
    html = client.get("/processes").get_data(as_text=True)
    assert "Deployed response version 2." in html and "v2" in html
    again = client.post("/processes/upload", data={"csrf_token": token, "bpmn": _file(RENAMED)},
                        content_type="multipart/form-data", follow_redirects=True)
    assert "the same as version 2; nothing deployed" in again.get_data(as_text=True)


def test_upload_refused_lists_each_problem(client: FlaskClient, ui_db: Database) -> None:
    token = sign_in(client, "grace")
    response = client.post("/processes/upload", data={"csrf_token": token, "bpmn": _file(WIZARDS)},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r"<code>close</code> \(line \d+\): candidate group &#39;wizards&#39; is not a role", html)
    assert "Nothing was deployed" in html and _latest(ui_db) == 1


def test_upload_checks_its_inputs(client: FlaskClient) -> None:
    token = sign_in(client, "grace")
    missing = client.post("/processes/upload", data={"csrf_token": token}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "choose a .bpmn file" in missing.get_data(as_text=True)
    lanes = client.post("/processes/upload", data={"csrf_token": token, "bpmn": _file(RENAMED), "lanes": "[1, 2"},
                        content_type="multipart/form-data")
    assert lanes.status_code == 422
    assert "Lanes must be a JSON object" in lanes.get_data(as_text=True)
    assert ">[1, 2</textarea>" in lanes.get_data(as_text=True)
    not_xml = client.post("/processes/upload", data={"csrf_token": token, "bpmn": _file("<not xml")},
                          content_type="multipart/form-data")
    assert not_xml.status_code == 422 and "not well-formed" in not_xml.get_data(as_text=True)


def test_upload_needs_csrf_and_the_role(client: FlaskClient) -> None:
    sign_in(client, "grace")
    assert client.post("/processes/upload", data={"bpmn": _file(RENAMED)},
                       content_type="multipart/form-data").status_code == 403
    token = sign_in(client, "heidi")
    assert client.post("/processes/upload", data={"csrf_token": token, "bpmn": _file(RENAMED)},
                       content_type="multipart/form-data").status_code == 403


def test_preview_lists_the_changes_of_the_edited_diagram(client: FlaskClient) -> None:
    token = sign_in(client, "grace")
    response = client.post("/processes/response/preview", data={"bpmn": _file(RENAMED)},
                           headers={"X-CSRF-Token": token, "Accept": "application/json"},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    body = response.get_json()
    assert body["base"] == 1 and body["target"] == "draft"
    assert {e["id"] for e in body["changed"]} == {"restore", "close"}
    restore = next(e for e in body["changed"] if e["id"] == "restore")
    assert restore["changes"] == [{"what": "name", "before": "Restore service", "after": "Restore the service"}]
    close = next(e for e in body["changed"] if e["id"] == "close")
    assert close["changes"][0]["what"] == "form field closure_note: required"
    assert 'data-element-id="restore"' in body["html"]
    assert client.post("/processes/response/preview", data={"bpmn": _file(RENAMED)},
                       content_type="multipart/form-data").status_code == 403  # no CSRF header
    bad = client.post("/processes/response/preview", data={"bpmn": _file("<x")}, content_type="multipart/form-data",
                      headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_request"


def test_the_modeller_deploys_through_the_api_with_the_session(client: FlaskClient, ui_db: Database) -> None:
    """What the modeller page's Deploy button sends: multipart `bpmn` (+ the lanes) with X-CSRF-Token."""
    token = sign_in(client, "grace")
    html = client.get("/processes/response/modeller").get_data(as_text=True)
    assert 'data-deploy-url="/api/v1/processes/response/versions"' in html
    assert 'data-bpmn-url="/api/v1/processes/response/versions/1/bpmn"' in html
    assert 'data-lanes="{&#34;Service desk&#34;: &#34;service_desk&#34;' in html
    assert "Deploy as v2" in html
    refused = client.post("/api/v1/processes/response/versions", data={"bpmn": _file(RENAMED)},
                          content_type="multipart/form-data")
    assert refused.status_code == 403  # the session alone is not enough
    bad = client.post("/api/v1/processes/response/versions", data={"bpmn": _file(WIZARDS)},
                      content_type="multipart/form-data", headers={"X-CSRF-Token": token})
    assert bad.status_code == 422
    assert bad.get_json()["error"]["details"]["problems"][0]["element_id"] == "close"
    ok = client.post("/api/v1/processes/response/versions",
                     data={"bpmn": _file(RENAMED), "lanes": json.dumps({"Service desk": "service_desk"})},
                     content_type="multipart/form-data", headers={"X-CSRF-Token": token})
    assert ok.status_code == 201 and ok.get_json()["version"] == 2


def test_diff_page(client: FlaskClient, ui_db: Database) -> None:
    token = sign_in(client, "grace")
    client.post("/processes/upload", data={"csrf_token": token, "bpmn": _file(RENAMED)},
                content_type="multipart/form-data")
    sign_in(client, "heidi")  # auditors read diffs too
    html = client.get("/processes/response/diff").get_data(as_text=True)
    assert "what changed from v1 to v2" in html
    assert "0 added" in html and "2 changed" in html
    assert "<del>Restore service</del> → <ins>Restore the service</ins>" in html
    markers = html.split('data-markers="', 1)[1].split('"', 1)[0].replace("&#34;", '"')
    assert json.loads(markers) == {"itsm-added": [], "itsm-changed": ["restore", "close"]}
    everything = client.get("/processes/response/diff?base=0&target=1").get_data(as_text=True)
    assert "0 removed" in everything and "Record and classify" in everything
    assert client.get("/processes/response/diff?target=7").status_code == 404
    assert client.get("/processes/nothing/diff").status_code == 404


def test_modeller_and_table_editor_pages(client: FlaskClient) -> None:
    sign_in(client, "grace")
    assert client.get("/processes/response/modeller?version=3").status_code == 400
    html = client.get("/decisions/priority/editor").get_data(as_text=True)
    assert 'data-deploy-url="/api/v1/decisions/priority/versions"' in html
    assert 'data-tests-url="/decisions/priority/versions/1/tests.json"' in html
    tests = client.get("/decisions/priority/versions/1/tests.json")
    assert tests.status_code == 200 and isinstance(tests.get_json(), list)
    assert client.get("/decisions/nothing/editor").status_code == 404


def test_processes_page_lists_versions_and_tables(client: FlaskClient) -> None:
    sign_in(client, "heidi")
    html = client.get("/processes").get_data(as_text=True)
    assert 'id="process-response"' in html and 'id="process-long_form"' in html
    assert 'id="decision-priority"' in html
    assert "Edit in modeller" not in html  # auditors read, they do not edit
    sign_in(client, "grace")
    html = client.get("/processes").get_data(as_text=True)
    assert "Edit in modeller" in html and "Edit table" in html and "Upload a .bpmn" in html
