"""Every change path of the shipped processes can be finished by the demo users alone, without admin (issue 12,
"Demo users for every role the shipped processes route to"), through the HTTP API.

The driver completes whatever task is open on the record and on the releases it started, as the first demo user
holding one of the task's roles whom the server lets do it: a 403 (separation of duties) passes the task to the
next holder, as a team would. Each path then shows its own sequence flows, an audit trail without admin, and no
deviation in conformance."""

from __future__ import annotations

from typing import Any

import pytest

from engine.diagram.metadata import read_processes
from engine.diagram.xmlsafe import parse_xml
from engine.services import users
from tests.api.conftest import Api
from tests.rights.conftest import do, ok, record
from tests.support import PROCESSES

STAFF = {name: roles for name, roles in users.DEMO_USERS.items() if "admin" not in roles}
NEGATIVE = ("rolled_back", "replan")  # yes/no questions whose "yes" is the unhappy path
RFC = {"title": "Firmware 9.2 on the VPN concentrator", "description": "security fixes", "requester": "ivan"}


def _plausible(field: dict[str, Any]) -> Any:
    kind = field["type"]
    if kind == "boolean":
        return field["id"] not in NEGATIVE
    if kind == "long":
        return int(field["min"]) if field["min"] is not None else 1
    if kind == "date":
        return "2026-12-05"
    if kind == "datetime":
        return "2026-12-05T22:00"
    if kind == "enum":
        ids = [o["id"] for o in field["options"]]
        preferred = [i for i in ("approved", "approve", "valid", "clear", "deployed", "go") if i in ids]
        return preferred[0] if preferred else (field["default"] if field["default"] in ids else ids[0])
    return "" if not field["required"] else "done"


def _open(api: Api, key: str) -> list[tuple[str, dict[str, Any]]]:
    keys = [key] + [i["business_key"] for i in ok(api.get("/instances?limit=500", "heidi"))["instances"]
                    if i.get("origin_key") == key]
    return [(k, t) for k in keys for t in ok(api.get(f"/instances/{k}", "heidi"))["tasks"]]


def finish(api: Api, key: str, answers: dict[str, dict[str, Any]], limit: int = 40) -> list[str]:
    """Drives the record to its end with the demo staff; returns the sequence flows it took."""
    for _ in range(limit):
        if ok(api.get(f"/instances/{key}", "heidi"))["status"] == "completed":
            return list(ok(api.get(f"/instances/{key}/path", "heidi"))["flows"])
        open_now = _open(api, key)
        assert open_now, f"{key} is stuck: {record(api, key)}"
        _, task = open_now[0]
        form = ok(api.get(f"/tasks/{task['id']}", "heidi"))["form"]
        data = {f["id"]: _plausible(f) for f in form if not f["readonly"]}
        data.update(answers.get(task["element_id"], {}))
        holders = [n for n, roles in STAFF.items() if set(roles) & set(task["roles"])]
        assert holders, f"no demo user holds {task['roles']} for {task['element_id']}"
        refusals = []
        for name in holders:
            resp = api.post(f"/tasks/{task['id']}/complete", name, json={"data": data})
            if resp.status_code == 200:
                break
            assert resp.status_code == 403, (task["element_id"], name, resp.status_code, resp.data[:400])
            refusals.append((name, resp.json["error"]["message"]))
        else:
            raise AssertionError(f"no demo user may complete {task['element_id']}: {refusals}")
    raise AssertionError(f"{key} did not end: {[t['element_id'] for _, t in _open(api, key)]}")


def _clean(api: Api, key: str) -> None:
    actors = {e["actor"] for e in ok(api.get(f"/instances/{key}/audit", "heidi"))["events"]}
    assert "admin" not in actors, actors
    deviations = [d for d in ok(api.get("/audit/conformance", "heidi"))["deviations"] if d["business_key"] == key]
    assert deviations == []


def _assessed(hours: int, users_affected: int, donor_facing: bool = False, **more: Any) -> dict[str, Any]:
    return {"assessment": "valid", "estimated_hours": hours, "users_affected": users_affected,
            "donor_facing": donor_facing, **more}


@pytest.mark.parametrize(("service", "assess", "risk", "flow", "approver"), [
    ("file-shares", _assessed(1, 1, standard_model="add_to_group"), (1, 1), "flow_standard", "implementing_team"),
    ("vpn", _assessed(2, 10), (1, 2), "flow_it_manager", "it_manager"),
    ("vpn", _assessed(8, 120), (2, 2), "flow_cab", "cab"),
    ("donor-portal", _assessed(1, 5, donor_facing=True), (1, 1), "flow_sponsor", "executive_sponsor"),
], ids=["standard", "normal-it-manager", "normal-cab", "donor-facing-sponsor"])
def test_each_change_path_is_finished_by_the_demo_users(shipped: Api, service: str, assess: dict[str, Any],
                                                         risk: tuple[int, int], flow: str, approver: str) -> None:
    api = shipped
    key = ok(api.post("/instances", "cora", json={"process": "change", "data": {**RFC, "service": service}}),
             201)["business_key"]
    flows = finish(api, key, {"assess": assess, "prepare": {"risk_likelihood": risk[0], "risk_impact": risk[1]}})
    assert flow in flows and "flow_implemented" in flows
    data = record(api, key)
    assert (data["approver"], data["implemented"]) == (approver, True)
    _clean(api, key)


def _p1(api: Api) -> str:
    key = ok(api.post("/instances", "ivan", json={"process": "response", "data": {}}), 201)["business_key"]
    do(api, "alice", key, "record", {"summary": "Donor portal down", "service": "donor-portal", "reporter": "ivan",
                                     "query_type": "incident", "impact": "high", "urgency": "high"})
    return key


def test_an_emergency_for_an_open_p1_is_finished_with_the_sponsors_sign_off(shipped: Api) -> None:
    api = shipped
    key = ok(api.post("/instances", "cora", json={"process": "change", "data": {
        **RFC, "service": "donor-portal", "incident": _p1(api)}}), 201)["business_key"]
    flows = finish(api, key, {"document_emergency": {
        "change_window_start": "2026-12-05T10:00", "change_window_end": "2026-12-05T11:00", "backout_plan": "unpatch",
        "risk_likelihood": 2, "risk_impact": 2, "estimated_hours": 1, "users_affected": 10, "donor_facing": True}})
    assert {"flow_emergency", "flow_pir_accepted", "flow_retro_sponsor", "flow_retro_approved"} <= set(flows)
    assert (record(api, key)["change_class"], record(api, key)["implemented"]) == ("emergency", True)
    _clean(api, key)


def test_a_change_handed_to_a_project_records_the_cab_and_sponsor_decisions(shipped: Api) -> None:
    api = shipped
    tri = ok(api.post("/records", "ivan", json={"option": "change", "data": {
        "title": "Donor CRM replacement", "service": "donor-crm", "description": "new CRM"}}), 201)["business_key"]
    flows = finish(api, tri, {
        "register": {"record_kind": "rfc", "summary": "Donor CRM replacement", "service": "donor-crm",
                     "reporter": "ivan"},
        "assess_rfc": {"title": "Donor CRM replacement", "estimated_hours": 400, "users_affected": 200,
                       "donor_facing": True, "incident": ""}})
    assert {"flow_class_major", "flow_project_cab_approved", "flow_project_sponsor_needed",
            "flow_project_sponsor_approved", "flow_project_end"} <= set(flows)
    trail = ok(api.get(f"/instances/{tri}/audit", "heidi"))["events"]
    decided = {e["element_id"]: e["actor"] for e in trail if e["type"] == "task.completed"}
    assert decided["approve_project_cab"] in ("dave", "dora") and decided["approve_project_sponsor"] == "stella"
    _clean(api, tri)


def test_every_role_the_shipped_processes_route_to_has_demo_users_enough_for_the_duties() -> None:
    held: dict[str, list[str]] = {}
    for name, roles in STAFF.items():
        for role in roles:
            held.setdefault(role, []).append(name)
    routed: set[str] = set()
    for bpmn in sorted(PROCESSES.glob("*/*.bpmn")):
        for pm in read_processes(parse_xml(bpmn.read_bytes(), bpmn.name)).values():
            routed |= {r for el in pm.elements.values() if el.is_human for r in el.roles}
            approvers = dict(pm.properties).get("approver_roles", "")
            routed |= {pair.split("=")[1].strip() for pair in approvers.split(",") if "=" in pair}
    assert {"executive_sponsor", "cab", "change_manager", "problem_team", "release_manager"} <= routed
    assert not routed - set(held), f"no demo user holds {sorted(routed - set(held))}"
    # one may raise or assess what another must approve: the approving roles have two holders
    assert len(held["cab"]) >= 2 and len(held["change_manager"]) >= 2
