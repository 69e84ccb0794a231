"""Who may see, start, claim, complete and approve, through the HTTP API as each user would (engine/services/
policy.py). Includes the attacks of issue 11: a requester reading and withdrawing another user's change
through GET /tasks/{id}, requester-lane tasks offered to every account, staff reading every record."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from engine.db.database import Database
from engine.services import users
from tests.api.conftest import Api
from tests.bpmn_snippets import chain, user_task
from tests.support import deploy_process, deploy_xml
from web import create_app
from web.config import Settings

CHANGE = {"title": "Upgrade the VPN concentrator", "service": "vpn", "description": "firmware 9.2"}
IVANS = {"process": "change", "data": {**CHANGE, "requester": "ivan"}}  # raised for ivan by a change manager
ASSESS = {"estimated_hours": 2, "users_affected": 10, "donor_facing": False}
INCIDENT = {"summary": "Mail is down", "service": "mail", "impact": "high", "urgency": "high"}


@pytest.fixture
def world(db: Database) -> Iterator[Api]:
    """Triage, response and change as shipped; the demo users plus judy, a second requester-only account."""
    users.seed_demo_users(db)
    users.add_user(db, "judy", "demo", [])
    for name in ("triage", "response", "change"):
        deploy_process(db, name)
    app = create_app(Settings(database_url=db.url, secret_key="test-secret"), db=db)
    app.testing = False
    yield Api(app.test_client(), db)


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.data[:400])
    return resp.json


def _refused(resp: Any, status: int = 403) -> None:
    assert resp.status_code == status, (resp.status_code, resp.data[:400])
    assert resp.json["error"]["code"] == {403: "not_allowed", 404: "not_found"}[status]


def _task(api: Api, key: str, element_id: str, user: str = "heidi") -> dict[str, Any]:
    found = [t for t in _ok(api.get(f"/instances/{key}", user))["tasks"] if t["element_id"] == element_id]
    assert found, f"{element_id} is not open on {key}"
    return found[0]


def _do(api: Api, user: str, key: str, element_id: str, data: dict[str, Any]) -> dict[str, Any]:
    task = _task(api, key, element_id)
    return _ok(api.post(f"/tasks/{task['id']}/complete", user, json={"data": data}))


def _ids(api: Api, user: str, scope: str) -> set[str]:
    return {t["id"] for t in _ok(api.get(f"/tasks?scope={scope}&limit=500", user))["tasks"]}


def _returned_change(api: Api) -> tuple[str, dict[str, Any]]:
    """ivan's RFC, found not valid by the implementing team: "Revise or withdraw the RFC" waits in the
    requester lane."""
    key = _ok(api.post("/instances", "carol", json=IVANS), 201)["business_key"]
    assert key.startswith("RFC-")
    _do(api, "erin", key, "assess", {"assessment": "invalid", "assessment_note": "no business case", **ASSESS})
    return key, _task(api, key, "revise_rfc")


def test_a_requester_cannot_read_or_withdraw_another_users_change(world: Api) -> None:
    key, revise = _returned_change(world)
    for intruder in ("judy", "bob"):  # a requester, and staff whose role the change process never uses
        _refused(world.get(f"/tasks/{revise['id']}", intruder))
        _refused(world.get(f"/instances/{key}", intruder))
        _refused(world.get(f"/instances/{key}/audit", intruder))
        _refused(world.post(f"/tasks/{revise['id']}/claim", intruder))
        _refused(world.post(f"/tasks/{revise['id']}/complete", intruder,
                            json={"data": {"requester_decision": "withdraw"}}))
        assert revise["id"] not in _ids(world, intruder, "available") | _ids(world, intruder, "todo")
        assert key not in {i["business_key"] for i in _ok(world.get("/instances", intruder))["instances"]}
    assert _task(world, key, "revise_rfc")["id"] == revise["id"]  # still open: nothing was withdrawn
    # Its requester has it on the default tab and may do it.
    assert revise["id"] in _ids(world, "ivan", "todo") and revise["id"] in _ids(world, "ivan", "available")
    assert _ok(world.get(f"/tasks/{revise['id']}", "ivan"))["element_id"] == "revise_rfc"
    done = _ok(world.post(f"/tasks/{revise['id']}/complete", "ivan",
                          json={"data": {"requester_decision": "withdraw"}}))
    assert done["instance"]["status"] == "completed"


def test_the_owning_team_may_do_a_requester_lane_task_on_the_requesters_behalf(world: Api) -> None:
    key, revise = _returned_change(world)
    assert revise["id"] in _ids(world, "carol", "available")  # change declares team = change_manager
    assert revise["id"] not in _ids(world, "erin", "available")  # the implementer is not the owning team
    _refused(world.post(f"/tasks/{revise['id']}/claim", "erin"))
    assert _ok(world.post(f"/tasks/{revise['id']}/claim", "carol"))["assignee"] == "carol"
    _refused(world.post(f"/tasks/{revise['id']}/complete", "ivan", json={"data": {"requester_decision": "withdraw"}}))
    _ok(world.post(f"/tasks/{revise['id']}/complete", "carol", json={"data": {"requester_decision": "withdraw"}}))


def test_clarification_goes_to_the_requester_only(world: Api) -> None:
    key = _ok(world.post("/instances", "carol", json=IVANS), 201)["business_key"]
    _do(world, "erin", key, "assess", {"assessment": "clarify", "assessment_note": "which sites?", **ASSESS})
    clarify = _task(world, key, "consult_requester")
    assert clarify["roles"] == ["requester"]
    assert clarify["id"] in _ids(world, "ivan", "todo")
    for other in ("judy", "alice", "dave", "frank"):  # every account holds requester; the task is ivan's
        if other in ("judy", "alice"):  # the CAB (dave) and managers (frank) may read the change, not do this
            _refused(world.get(f"/tasks/{clarify['id']}", other))
        assert clarify["id"] not in _ids(world, other, "available")
        _refused(world.post(f"/tasks/{clarify['id']}/complete", other, json={"data": {"clarification": "x"}}))
    _ok(world.post(f"/tasks/{clarify['id']}/complete", "ivan", json={"data": {"clarification": "both sites"}}))


def test_staff_see_the_records_of_their_roles_managers_and_auditors_all(world: Api) -> None:
    rfc = _ok(world.post("/instances", "carol", json=IVANS), 201)["business_key"]
    inc = _ok(world.post("/instances", "ivan", json={"process": "response", "data": {"summary": "Printer"}}),
              201)["business_key"]
    seen = {u: {i["business_key"] for i in _ok(world.get("/instances", u))["instances"]}
            for u in ("alice", "bob", "dave", "erin", "carol", "frank", "heidi", "grace", "judy", "ivan")}
    assert seen["alice"] == {inc} and seen["bob"] == {inc}  # service desk and resolvers work on response
    assert seen["dave"] == {rfc} and seen["erin"] == {rfc}  # the CAB and implementers on change
    for everyone in ("carol", "frank", "heidi", "grace", "ivan"):
        assert seen[everyone] == {rfc, inc}, everyone
    assert seen["judy"] == set()
    _refused(world.get(f"/instances/{rfc}", "bob"))
    _refused(world.get(f"/instances/{inc}/path", "dave"))
    _ok(world.get(f"/instances/{inc}", "bob"))
    _ok(world.get(f"/instances/{rfc}/audit", "dave"))


def test_a_requester_sees_every_record_linked_to_theirs(world: Api) -> None:
    """TRI -> INC -> RFC: the incident triage made of ivan's report, and a change raised for it by another
    system, are his to follow; another requester sees none of them."""
    tri = _ok(world.post("/records", "ivan", json={"option": "incident", "data": INCIDENT}), 201)["business_key"]
    assert tri.startswith("TRI-")
    register = _task(world, tri, "register")
    assert register["id"] in _ids(world, "alice", "todo")
    _ok(world.post(f"/tasks/{register['id']}/complete", "alice", json={"data": {
        "record_kind": "incident", "summary": "Mail is down", "service": "mail", "reporter": "ivan"}}))
    (inc,) = [r["business_key"] for r in _ok(world.get(f"/instances/{tri}", "ivan"))["related"]]
    assert inc.startswith("INC-")
    rfc = _ok(world.post("/messages", "admin", json={"name": "rfc.raised", "correlation": {"business_key": inc},
                                                     "data": {"title": "Replace the mail relay"}}), 202)
    (rfc_id,) = rfc["started"]
    change = _ok(world.get(f"/instances/{rfc_id}", "ivan"))
    assert change["origin_key"] == inc and "ivan" not in (change["data"].get("requester"), change["started_by"])
    assert {i["business_key"] for i in _ok(world.get("/instances", "ivan"))["instances"]} == {
        tri, inc, change["business_key"]}
    assert {r["business_key"] for r in _ok(world.get(f"/instances/{inc}", "ivan"))["related"]} == {
        tri, change["business_key"]}
    for key in (tri, inc, change["business_key"]):
        _refused(world.get(f"/instances/{key}", "judy"))
    assert _ok(world.get("/instances", "judy"))["instances"] == []


def test_a_task_assigned_to_a_person_is_on_their_default_tab(world: Api) -> None:
    inc = _ok(world.post("/instances", "alice", json={"process": "response", "data": {}}), 201)["business_key"]
    _do(world, "alice", inc, "record", {**INCIDENT, "query_type": "incident", "reporter": "ivan"})
    _do(world, "alice", inc, "restore_first_line", {"resolution": "restarted", "resolved_first_line": True})
    confirm = _task(world, inc, "confirm")
    assert confirm["assignee"] == "ivan"
    assert confirm["id"] in _ids(world, "ivan", "todo") and confirm["id"] in _ids(world, "ivan", "mine")
    assert confirm["id"] not in _ids(world, "judy", "todo")
    _refused(world.post(f"/tasks/{confirm['id']}/complete", "alice", json={"data": {"user_confirmed": True}}))
    with world.client.session_transaction() as session:  # the browser's inbox, default tab
        session["username"] = "ivan"
    html = world.client.get("/inbox").get_data(as_text=True)
    assert f'data-task-id="{confirm["id"]}"' in html and "Nothing waiting" not in html


def test_the_api_and_the_page_list_the_inbox_in_the_same_order(world: Api) -> None:
    for impact, urgency in (("low", "low"), ("high", "high"), ("medium", "low"), ("high", "low")):
        key = _ok(world.post("/instances", "ivan", json={"process": "response", "data": {}}), 201)["business_key"]
        if impact != "medium":  # one record stays unprioritised, waiting at its first task
            _do(world, "alice", key, "record", {**INCIDENT, "impact": impact, "urgency": urgency,
                                                "query_type": "incident", "reporter": "ivan"})
    api_order = [t["id"] for t in _ok(world.get("/tasks?scope=available", "alice"))["tasks"]]
    priorities = [t["priority"] for t in _ok(world.get("/tasks?scope=available", "alice"))["tasks"]]
    assert priorities[:3] == sorted(priorities[:3]) and priorities[-1] is None
    with world.client.session_transaction() as session:
        session["username"] = "alice"
    html = world.client.get("/inbox?tab=available").get_data(as_text=True)
    assert re.findall(r'data-task-id="([^"]+)"', html) == api_order


def test_separation_of_duties_and_start_roles(world: Api, db: Database) -> None:
    key = _ok(world.post("/instances", "carol", json={"process": "change", "data": CHANGE}), 201)["business_key"]
    _do(world, "erin", key, "assess", {"assessment": "valid", **ASSESS})
    _do(world, "erin", key, "schedule", {"change_window_start": "2026-12-05", "change_window_end": "2026-12-06"})
    _do(world, "erin", key, "prepare", {"backout_plan": "reflash", "risk_likelihood": 2, "risk_impact": 2})
    approval = _task(world, key, "approve_it_manager")
    assert approval["approval"] is True
    refused = world.post(f"/tasks/{approval['id']}/complete", "carol", json={"data": {"approved": True}})
    _refused(refused)
    assert "separation of duties" in refused.json["error"]["message"]
    # A process that declares start roles starts only for them.
    xml = chain("gated", [user_task(0)]).replace(
        '<bpmn:process id="gated" isExecutable="true">',
        '<bpmn:process id="gated" isExecutable="true"><bpmn:extensionElements><camunda:properties>'
        '<camunda:property name="start_roles" value="change_manager"/></camunda:properties>'
        '</bpmn:extensionElements>')
    deploy_xml(db, xml)
    _refused(world.post("/instances", "judy", json={"process": "gated", "data": {}}))
    assert _ok(world.post("/instances", "carol", json={"process": "gated", "data": {}}), 201)["process"] == "gated"
