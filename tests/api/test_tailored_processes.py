"""A process an organisation adds is a first-class citizen: copies of every shipped process under other keys,
with other task ids, and a new access-request process written only through the API as a modeller saves it,
get the inbox, records, search, dashboard, conformance, business keys, links and permissions the shipped
ones get. Nothing here may depend on a process key the engine knows: it knows none."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine.db.database import Database
from engine.services import users
from tests.api.conftest import Api
from tests.support import PROCESSES
from web import create_app
from web.config import Settings

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
RENAMED = {"triage": "intake", "response": "service_calls", "change": "rfc_flow", "release": "deployments",
           "improvement": "kaizen"}
REF_ATTRIBUTES = ("sourceRef", "targetRef", "attachedToRef", "bpmnElement", "processRef")


def tailored_copy(key: str) -> bytes:
    """The shipped diagram under another key and name, every human task renamed x_<id>, and its front door
    (a start option's `via`) pointing at the renamed copy of that process."""
    root = etree.fromstring((PROCESSES / key / f"{key}.bpmn").read_bytes())
    tasks = {el.get("id"): f"x_{el.get('id')}" for el in root.iter(f"{{{BPMN}}}userTask", f"{{{BPMN}}}manualTask")}
    ids = {**tasks, key: RENAMED[key]}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("id", *REF_ATTRIBUTES):
            if el.get(attr) in ids:
                el.set(attr, ids[el.get(attr)])
        if el.tag == f"{{{BPMN}}}flowNodeRef" and el.text in ids:
            el.text = ids[el.text]
        if el.tag == f"{{{BPMN}}}process":
            el.set("name", f"Tailored {RENAMED[key].replace('_', ' ')}")
        if el.get("name", "").endswith(".via") and el.get("value") in RENAMED:
            el.set("value", RENAMED[el.get("value")])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def upload(api: Api, key: str, bpmn: bytes, folder: Path | None = None,
           lanes: dict[str, str] | None = None) -> dict[str, Any]:
    """Deploys as the modeller page does: multipart bpmn, the tables with their examples, the lane mapping."""
    form: dict[str, Any] = {"bpmn": (io.BytesIO(bpmn), f"{key}.bpmn")}
    if folder is not None:
        form["dmn"] = [(io.BytesIO(p.read_bytes()), p.name) for p in sorted(folder.glob("*.dmn"))]
        form["tests"] = [(io.BytesIO(p.read_bytes()), p.name) for p in sorted(folder.glob("*.tests.json"))]
    if lanes:
        form["lanes"] = json.dumps(lanes)
    resp = api.post(f"/processes/{key}/versions", "grace", data=form, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.json
    return resp.json


@pytest.fixture
def tailored(db: Database) -> Iterator[Api]:
    """A fresh install where only the tailored copies are deployed, through the API."""
    users.seed_demo_users(db)
    users.add_user(db, "judy", "demo", [])
    app = create_app(Settings(database_url=db.url, secret_key="test-secret"), db=db)
    app.testing = False
    api = Api(app.test_client(), db)
    for key in RENAMED:
        assert upload(api, RENAMED[key], tailored_copy(key), PROCESSES / key)["version"] == 1
    yield api


def ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.data[:500])
    return resp.json


def task_of(api: Api, key: str, element_id: str) -> dict[str, Any]:
    found = [t for t in ok(api.get(f"/instances/{key}", "heidi"))["tasks"] if t["element_id"] == element_id]
    assert found, (element_id, [t["element_id"] for t in ok(api.get(f"/instances/{key}", "heidi"))["tasks"]])
    return found[0]


def work(api: Api, user: str, key: str, element_id: str, data: dict[str, Any]) -> dict[str, Any]:
    task = task_of(api, key, element_id)
    todo = {t["id"] for t in ok(api.get("/tasks?scope=todo&limit=500", user))["tasks"]}
    assert task["id"] in todo, f"{element_id} is not on {user}'s default tab"
    return ok(api.post(f"/tasks/{task['id']}/complete", user, json={"data": data}))


def page(api: Api, user: str, path: str) -> str:
    with api.client.session_transaction() as session:
        session["username"] = user
    resp = api.client.get(path)
    assert resp.status_code == 200, (path, resp.status_code)
    return resp.get_data(as_text=True)


def test_copies_of_the_shipped_processes_under_other_keys_work_as_the_originals(tailored: Api) -> None:
    api = tailored
    assert {p["key"] for p in ok(api.get("/processes", "ivan"))} == set(RENAMED.values())
    options = {o["ref"]: o for o in ok(api.get("/start-options", "ivan"))["options"]}
    assert options["incident"]["process"] == "intake"  # through the copy of triage, the declared front door
    assert options["change"]["process"] == "intake"  # a change too goes through the front door

    # An incident: raised by ivan, registered at intake, handed to service_calls, worked and closed.
    tri = ok(api.post("/records", "ivan", json={"option": "incident", "data": {
        "summary": "Mail is down", "service": "mail", "impact": "high", "urgency": "medium"}}), 201)["business_key"]
    assert re.fullmatch(r"TRI-\d{6}", tri)
    work(api, "alice", tri, "x_register", {"record_kind": "incident", "summary": "Mail is down", "service": "mail",
                                           "reporter": "ivan"})
    (inc,) = [r["business_key"] for r in ok(api.get(f"/instances/{tri}", "ivan"))["related"]]
    assert re.fullmatch(r"INC-\d{6}", inc)  # the prefix chosen by query_type, as declared
    assert ok(api.get(f"/instances/{inc}", "ivan"))["origin_key"] == tri
    work(api, "alice", inc, "x_record", {"summary": "Mail is down", "service": "mail", "reporter": "ivan",
                                         "query_type": "incident", "impact": "high", "urgency": "medium"})
    assert task_of(api, inc, "x_restore_first_line")["priority"] == "P2"
    work(api, "alice", inc, "x_restore_first_line", {"resolution": "restarted", "resolved_first_line": True})
    assert task_of(api, inc, "x_confirm")["assignee"] == "ivan"
    work(api, "ivan", inc, "x_confirm", {"user_confirmed": True})
    work(api, "alice", inc, "x_assess_impact", {"material_impact": False})
    closed = work(api, "alice", inc, "x_close", {"closure_note": "done", "trend_noted": False})
    assert closed["instance"]["status"] == "completed"

    # A change: requested by ivan, assessed, approved by the IT manager, handed to the release copy.
    rfc = ok(api.post("/instances", "cora", json={"process": "rfc_flow", "data": {
        "title": "Upgrade the VPN", "service": "vpn", "description": "firmware 9.2", "requester": "ivan"}}),
             201)["business_key"]
    assert re.fullmatch(r"RFC-\d{6}", rfc)
    work(api, "erin", rfc, "x_assess", {"assessment": "valid", "estimated_hours": 3, "users_affected": 49,
                                        "donor_facing": False})
    work(api, "erin", rfc, "x_schedule", {"change_window_start": "2026-12-05", "change_window_end": "2026-12-06"})
    work(api, "erin", rfc, "x_prepare", {"backout_plan": "reflash", "risk_likelihood": 2, "risk_impact": 3})
    approval = task_of(api, rfc, "x_approve_it_manager")
    assert approval["approval"] is True and approval["priority"] is None
    work(api, "carol", rfc, "x_approve_it_manager", {"approved": True})
    (rel,) = [r for r in ok(api.get(f"/instances/{rfc}", "ivan"))["related"] if r["relation"] == "started"]
    assert rel["process"] == "deployments" and re.fullmatch(r"REL-\d{6}", rel["business_key"])

    # Records, search and links, as ivan and as others may see them.
    ivans = {i["business_key"] for i in ok(api.get("/instances", "ivan"))["instances"]}
    assert ivans == {tri, inc, rfc, rel["business_key"]}
    assert ok(api.get("/instances", "judy"))["instances"] == []
    assert {i["business_key"] for i in ok(api.get("/instances?q=Mail", "alice"))["instances"]} == {tri, inc}
    assert api.get(f"/instances/{rfc}", "bob").status_code == 403  # resolvers have no part in rfc_flow
    html = page(api, "alice", "/records?q=mail")
    assert inc in html and "Mail is down" in html

    # The dashboard counts the copies' records and breaks the change copy down as it declares.
    board = page(api, "carol", "/dashboard")
    assert "Tailored service calls" in board
    assert '<span class="tile-value" id="m-first-line">100.0%</span>' in board
    assert 'id="breakdown-rfc_flow-change_class"' in board and 'id="breakdown-rfc_flow-approver"' in board

    # Conformance reads the copies' declarations: the IT manager's approval is the one the rights demanded.
    report = ok(api.get("/audit/conformance", "heidi"))
    assert report["ok"] is True, report["deviations"]


# Written as the Camunda Modeler saves a diagram: lanes named for the organisation, a start form, declarations.
ACCESS_REQUEST = Path(__file__).resolve().parent / "fixtures" / "access_request.bpmn"


def test_an_access_request_process_written_through_the_api_is_a_first_class_citizen(tailored: Api) -> None:
    api = tailored
    upload(api, "access_request", ACCESS_REQUEST.read_bytes(), lanes={"System owners": "change_manager"})
    option = {o["ref"]: o for o in ok(api.get("/start-options", "ivan"))["options"]}["access"]
    assert option["label"] == "Request access" and option["process"] == "access_request"
    assert [f["id"] for f in option["fields"]] == ["system", "access_level", "justification"]

    refused = api.post("/records", "ivan", json={"option": "access", "data": {"access_level": "root"}})
    assert refused.status_code == 422 and set(refused.json["error"]["details"]["fields"]) == {"system", "access_level"}
    raised = ok(api.post("/records", "ivan", json={"option": "access", "data": {
        "system": "payroll", "access_level": "write", "justification": "month end"}}), 201)
    key = raised["business_key"]
    assert re.fullmatch(r"ACC-000001", key) and raised["next_task"] is None
    record = ok(api.get(f"/instances/{key}", "ivan"))
    assert (record["data"]["requester"], record["data"]["reporter"]) == ("ivan", "ivan")

    # Who sees it: its requester, the roles its lanes route to, managers and auditors; nobody else.
    for user in ("ivan", "alice", "carol", "heidi"):
        assert key in {i["business_key"] for i in ok(api.get("/instances", user))["instances"]}, user
    for user in ("judy", "bob", "dave"):
        assert api.get(f"/instances/{key}", user).status_code == 403, user

    approval = task_of(api, key, "Activity_approve")
    assert approval["roles"] == ["change_manager"] and approval["approval"] is True
    assert approval["id"] not in {t["id"] for t in ok(api.get("/tasks?scope=todo", "ivan"))["tasks"]}
    work(api, "carol", key, "Activity_approve", {"approved": True})
    work(api, "alice", key, "Activity_grant", {"account": "ivan.payroll"})
    confirm = task_of(api, key, "Activity_confirm")
    assert confirm["roles"] == ["requester"] and confirm["assignee"] is None
    assert confirm["id"] not in {t["id"] for t in ok(api.get("/tasks?scope=todo", "judy"))["tasks"]}
    assert api.post(f"/tasks/{confirm['id']}/complete", "judy", json={"data": {"works": True}}).status_code == 403
    assert confirm["id"] in {t["id"] for t in ok(api.get("/tasks?scope=available", "alice"))["tasks"]}  # the team
    assert work(api, "ivan", key, "Activity_confirm", {"works": True})["instance"]["status"] == "completed"

    # Search, the record page, the dashboard's declared breakdown and conformance know it too.
    assert [i["business_key"] for i in ok(api.get("/instances?q=payroll", "carol"))["instances"]] == [key]
    assert "payroll" in page(api, "ivan", f"/records/{key}")
    assert "Request access" in page(api, "ivan", "/new")
    board = page(api, "carol", "/dashboard")
    assert 'id="breakdown-access_request-access_level"' in board
    assert ok(api.get("/audit/conformance?process=access_request", "heidi"))["ok"] is True
