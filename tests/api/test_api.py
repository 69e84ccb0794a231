"""The JSON API of API.md, driven with bearer tokens through the Flask test client."""

from __future__ import annotations

import io

from engine.db.database import Database
from tests.api.conftest import Api
from tests.bpmn_snippets import chain, script_task, user_task
from tests.support import PROCESSES

RECORD = {"summary": "Mail down", "service": "mail", "reporter": "ivan", "query_type": "incident", "impact": "high",
          "urgency": "low"}


def _error(resp, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, (resp.status_code, resp.data[:300])
    body = resp.json["error"]
    assert set(body) == {"code", "message", "details"}
    if code:
        assert body["code"] == code
    return body


def test_health_and_tokens(api: Api) -> None:
    assert api.get("/health").json["status"] == "ok"
    _error(api.post("/tokens", json={"username": "alice", "password": "nope"}), 401, "unauthenticated")
    _error(api.get("/tasks"), 401)
    _error(api.get("/tasks", headers={"Authorization": "Bearer forged"}), 401)
    _error(api.post("/tokens", data="not json", content_type="application/json"), 400)


def test_raise_claim_and_complete_an_incident(api: Api) -> None:
    resp = api.post("/instances", "ivan", json={"process": "response", "data": {}})
    assert resp.status_code == 201
    inst = resp.json
    assert inst["business_key"].startswith("INC-") and inst["status"] == "running"
    task = inst["tasks"][0]
    assert task["roles"] == ["service_desk"]
    available = api.get("/tasks?scope=available", "alice").json["tasks"]
    assert task["id"] in [t["id"] for t in available]
    assert api.get("/tasks?scope=available", "bob").json["tasks"] == []
    _error(api.post(f"/tasks/{task['id']}/claim", "bob"), 403)
    assert api.post(f"/tasks/{task['id']}/claim", "alice").json["assignee"] == "alice"
    _error(api.post(f"/tasks/{task['id']}/claim", "admin"), 409)
    detail = api.get(f"/tasks/{task['id']}", "alice").json
    assert {f["id"] for f in detail["form"]} >= {"summary", "impact", "urgency"}
    bad = _error(api.post(f"/tasks/{task['id']}/complete", "alice", json={"data": {"impact": "huge"}}), 422)
    assert set(bad["details"]["fields"]) >= {"summary", "service", "impact"}
    done = api.post(f"/tasks/{task['id']}/complete", "alice", json={"data": RECORD})
    assert done.status_code == 200
    assert done.json["instance"]["data"]["priority"] == "P3"
    assert [t["element_id"] for t in done.json["next_tasks"]] == ["restore_first_line"]
    _error(api.post(f"/tasks/{task['id']}/complete", "alice", json={"data": RECORD}), 409, "conflict")
    _error(api.get(f"/tasks/{task['id']}", "alice"), 404)
    path = api.get(f"/instances/{inst['id']}/path", "heidi").json
    assert path["completed"][:3] == ["start", "record", "prioritise"] and path["active"] == ["restore_first_line"]
    events = api.get(f"/instances/{inst['business_key']}/audit", "heidi").json["events"]
    decision = [e for e in events if e["type"] == "decision.evaluated"][0]
    assert decision["data"]["evaluation"]["matched"] == ["priority_r3"]
    verified = api.get("/audit/verify", "heidi").json
    assert verified["ok"] is True and verified["events"] >= events[-1]["seq"]
    _error(api.get("/audit/verify", "alice"), 403)


def test_instances_listing_and_visibility(api: Api) -> None:
    mine = api.post("/instances", "ivan", json={"process": "response", "data": {}}).json
    api.post("/instances", "alice", json={"process": "response", "data": {}})
    assert [i["id"] for i in api.get("/instances", "ivan").json["instances"]] == [mine["id"]]
    assert len(api.get("/instances", "heidi").json["instances"]) == 2
    page = api.get("/instances?limit=1", "heidi").json
    assert len(page["instances"]) == 1 and page["next_cursor"]
    rest = api.get(f"/instances?limit=1&cursor={page['next_cursor']}", "heidi").json
    assert rest["instances"][0]["id"] == mine["id"]
    other = api.get("/instances", "alice").json["instances"][0]
    _error(api.get(f"/instances/{other['id']}", "ivan") if other["started_by"] != "ivan" else
           api.get("/instances/999999", "ivan"), 403 if other["started_by"] != "ivan" else 404)
    _error(api.get("/instances/999999", "heidi"), 404)


def test_cancel_needs_a_manager_and_a_reason(api: Api) -> None:
    inst = api.post("/instances", "ivan", json={"process": "response", "data": {}}).json
    _error(api.post(f"/instances/{inst['id']}/cancel", "alice", json={"reason": "x"}), 403)
    _error(api.post(f"/instances/{inst['id']}/cancel", "admin", json={}), 400)
    done = api.post(f"/instances/{inst['id']}/cancel", "admin", json={"reason": "duplicate"})
    assert done.json["status"] == "cancelled"


def test_processes_versions_and_deploy(api: Api) -> None:
    listed = api.get("/processes", "ivan").json
    assert [(p["key"], p["version"]) for p in listed] == [("response", 1)]
    bpmn = api.get("/processes/response/versions/1/bpmn", "ivan")
    assert bpmn.data.startswith(b"<?xml") and bpmn.mimetype == "application/xml"
    edited = bpmn.data + b"<!-- edited by the process owner -->"

    def upload() -> dict:
        return {"bpmn": (io.BytesIO(edited), "response.bpmn")}

    _error(api.post("/processes/response/versions", "alice", data=upload(), content_type="multipart/form-data"), 403)
    resp = api.post("/processes/response/versions", "grace", data=upload(), content_type="multipart/form-data")
    assert resp.status_code == 201 and resp.json["version"] == 2
    assert [v["version"] for v in api.get("/processes/response/versions", "ivan").json] == [1, 2]


def test_refused_deploy_lists_problems_and_stores_nothing(api: Api) -> None:
    xml = chain("response", [user_task(0), script_task(1, "import os")]).encode()
    resp = api.post("/processes/response/versions", "grace", data={"bpmn": (io.BytesIO(xml), "r.bpmn")},
                    content_type="multipart/form-data")
    body = _error(resp, 422, "deployment_refused")
    assert any(p["element_id"] == "n1" for p in body["details"]["problems"])
    assert [v["version"] for v in api.get("/processes/response/versions", "ivan").json] == [1]
    hostile = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    resp = api.post("/processes/response/versions", "grace", data={"bpmn": (io.BytesIO(hostile), "r.bpmn")},
                    content_type="multipart/form-data")
    _error(resp, 422)


def test_decision_versions(api: Api) -> None:
    assert [v["version"] for v in api.get("/decisions/priority/versions", "ivan").json] == [1]
    dmn = (PROCESSES / "response" / "priority.dmn").read_bytes().replace(b'"P3"', b'"P2"', 1)
    resp = api.post("/decisions/priority/versions", "grace",
                    data={"dmn": (io.BytesIO(dmn), "priority.dmn")}, content_type="multipart/form-data")
    assert resp.status_code == 201 and resp.json["version"] == 2
    _error(api.post("/decisions/priority/versions", "alice", data={"dmn": (io.BytesIO(dmn), "priority.dmn")},
                    content_type="multipart/form-data"), 403)


def test_hostile_script_fails_its_task_and_the_server_keeps_serving(api: Api) -> None:
    from engine.db.database import unit_of_work
    from engine.services.actors import Actor
    from engine.services.deploy import Bundle, deploy_in

    # Stored directly, as if an older validator had let it through: the run-time sandbox must still hold.
    xml = chain("evil", [script_task(0, "x = 0\nwhile True:\n    x += 1")]).encode()
    with unit_of_work(api.db) as uow:
        deploy_in(uow, Bundle(xml, "evil.bpmn"), Actor("grace", frozenset({"process_owner"})))
        uow.commit()
    resp = api.post("/instances", "ivan", json={"process": "evil", "data": {}})
    assert resp.status_code == 201 and resp.json["status"] == "error"
    assert api.get("/health").json["status"] == "ok"


def test_messages_endpoint(api: Api) -> None:
    _error(api.post("/messages", "alice", json={"name": "x"}), 403)
    body = _error(api.post("/messages", "admin", json={"name": "nobody.listens", "data": {}}), 404)
    assert "unrouted" in body["message"]


def test_openapi_document_lists_every_route(api: Api) -> None:
    doc = api.get("/openapi.json").json
    assert doc["openapi"].startswith("3.")
    app = api.client.application
    routes = {r.rule.removeprefix("/api/v1").replace("<int:", "{").replace("<", "{").replace(">", "}")
              for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1") and "openapi" not in r.rule}
    documented = {p.replace("{key}", "{key}") for p in doc["paths"]}
    normalise = {"{ref}": "{id}", "{task_id}": "{id}"}
    for route in routes:
        for a, b in normalise.items():
            route = route.replace(a, b)
        assert route in documented, route


def test_token_cache_serves_repeat_requests_and_revocation_empties_it(api: Api, db: Database) -> None:
    from sqlalchemy import text

    from engine.db.database import unit_of_work
    from engine.services import users

    token = api.token("alice")
    assert api.get("/tasks", user="alice").status_code == 200  # looked up, then cached
    with unit_of_work(db) as uow:  # revoked behind the cache's back (another process, or plain SQL)
        uow.session.execute(text("DELETE FROM api_token"))
        uow.commit()
    assert api.get("/tasks", user="alice").status_code == 200  # served from the cache for a few seconds
    users.forget_tokens([token])  # what revocation calls in its own process
    _error(api.get("/tasks", user="alice"), 401)
    api.tokens.clear()
    assert api.get("/tasks", user="alice").status_code == 200  # a new token works at once
    users.forget_tokens()
    with unit_of_work(db) as uow:
        uow.session.execute(text("UPDATE user_account SET active = false WHERE username = 'alice'"))
        uow.commit()
    _error(api.get("/tasks", user="alice"), 401)  # emptied cache: the deactivated user is refused
