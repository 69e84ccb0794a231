"""The walk-arounds of issue 12, each through the HTTP API against the shipped diagrams: refused where it enters
(403/422), or run and then named by conformance (GET /audit/conformance)."""

from __future__ import annotations

from typing import Any

from engine.db.database import Database
from engine.services import users
from tests.api.conftest import Api
from tests.rights.conftest import complete, do, ok, record, refused, task

RFC = {"title": "Donor portal redesign", "service": "donor-portal", "description": "new look"}


def _change(api: Api, **data: Any) -> str:
    return ok(api.post("/instances", "cora", json={"process": "change", "data": {**RFC, "requester": "ivan", **data}}),
              201)["business_key"]


def _conformance(api: Api, key: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for d in ok(api.get("/audit/conformance", "heidi"))["deviations"]:
        if d["business_key"] == key:
            found.setdefault(d["rule"], []).append(d)
    return found


def _incident(api: Api, impact: str = "high", urgency: str = "high") -> str:
    key = ok(api.post("/instances", "ivan", json={"process": "response", "data": {}}), 201)["business_key"]
    do(api, "alice", key, "record", {"summary": "Donor portal down", "service": "donor-portal", "reporter": "ivan",
                                     "query_type": "incident", "impact": impact, "urgency": urgency})
    return key


def test_1_the_implementer_cannot_label_a_large_donor_facing_change_standard(shipped: Api) -> None:
    api = shipped
    key = _change(api)
    labelled = complete(api, "erin", key, "assess", {"assessment": "valid", "estimated_hours": 200,
                                                     "users_affected": 5000, "donor_facing": True,
                                                     "change_class": "standard", "approver": "implementing_team"})
    assert set(refused(labelled)["details"]["fields"]) == {"change_class", "approver"}
    # a model name does not make it standard either: the model's limits decide
    do(api, "erin", key, "assess", {"assessment": "valid", "estimated_hours": 200, "users_affected": 5000,
                                    "donor_facing": True, "standard_model": "add_to_group"})
    do(api, "erin", key, "schedule", {"change_window_start": "2026-12-05", "change_window_end": "2026-12-06"})
    do(api, "erin", key, "prepare", {"backout_plan": "restore", "risk_likelihood": 1, "risk_impact": 1})
    data = record(api, key)
    assert (data["change_class"], data["standard_match"], data["approver"]) == ("normal", False, "executive_sponsor")
    assert task(api, key, "approve_sponsor")


def test_2_two_roles_do_not_let_the_assessor_approve(shipped: Api, db: Database) -> None:
    api = shipped
    users.add_user(db, "max", "demo", ["implementer", "change_manager"])
    key = _change(api)
    do(api, "max", key, "assess", {"assessment": "valid", "estimated_hours": 2, "users_affected": 10,
                                   "donor_facing": False})
    do(api, "max", key, "schedule", {"change_window_start": "2026-12-05", "change_window_end": "2026-12-06"})
    do(api, "max", key, "prepare", {"backout_plan": "restore", "risk_likelihood": 1, "risk_impact": 2})
    denied = refused(complete(api, "max", key, "approve_it_manager", {"approved": True}), 403)
    assert "separation of duties" in denied["message"] and "assessor" in denied["message"]
    do(api, "carol", key, "approve_it_manager", {"approved": True})


def test_3_any_user_cannot_start_an_emergency_and_a_real_one_needs_an_open_p1(shipped: Api) -> None:
    api = shipped
    refused(api.post("/instances", "ivan", json={"process": "change", "data": {**RFC, "change_class": "emergency"}}),
            403)
    error = refused(api.post("/instances", "carol", json={"process": "change", "data": {
        **RFC, "change_class": "emergency", "donor_facing": True, "risk_likelihood": 5, "risk_impact": 5,
        "users_affected": 5000}}))
    assert {"change_class", "donor_facing", "risk_likelihood", "risk_impact"} <= set(error["details"]["fields"])
    low = _change(api, incident=_incident(api, "low", "low"))
    assert record(api, low)["change_class"] == "normal"  # a P4 incident makes no emergency
    urgent = _change(api, incident=_incident(api))
    assert record(api, urgent)["change_class"] == "emergency" and task(api, urgent, "implement_emergency")
    refused(api.post("/instances", "carol", json={"process": "change", "data": {**RFC, "incident": "INC-424242"}}))


def test_3b_a_rejected_review_ends_the_change_not_accepted_and_tells_the_incident(shipped: Api) -> None:
    api = shipped
    urgent = _change(api, incident=_incident(api))
    do(api, "erin", urgent, "implement_emergency", {"implementation_note": "patched", "implemented": True})
    do(api, "erin", urgent, "document_emergency", {
        "change_window_start": "2026-11-25", "change_window_end": "2026-11-25", "backout_plan": "unpatch",
        "risk_likelihood": 2, "risk_impact": 2, "estimated_hours": 1, "users_affected": 10, "donor_facing": True})
    do(api, "carol", urgent, "pir", {"approved": False, "review_note": "not justified"})
    do(api, "erin", urgent, "back_out", {"follow_up": "backed_out", "follow_up_note": "reverted"})
    data = record(api, urgent)
    assert (data["implemented"], data["accepted"]) == (False, False)
    assert _conformance(api, urgent) == {}


def test_4_an_omitted_flag_keeps_its_value(shipped: Api) -> None:
    api = shipped
    key = _change(api)
    do(api, "erin", key, "assess", {"assessment": "clarify", "assessment_note": "which pages?",
                                    "estimated_hours": 1, "users_affected": 5, "donor_facing": True})
    do(api, "ivan", key, "consult_requester", {"clarification": "the donation form"})
    do(api, "erin", key, "assess", {"assessment": "valid", "estimated_hours": 1, "users_affected": 5})
    assert record(api, key)["donor_facing"] is True
    do(api, "erin", key, "schedule", {"change_window_start": "2026-12-05", "change_window_end": "2026-12-06"})
    do(api, "erin", key, "prepare", {"backout_plan": "restore", "risk_likelihood": 1, "risk_impact": 1})
    assert record(api, key)["approver"] == "executive_sponsor"


def root_cause_addressed(api: Api, key: str) -> None:
    """The problem team finds the root cause and raises the fix; the change reports it implemented; reviewed."""
    do(api, "percy", key, "analyse_root_cause", {"root_cause": "the portal's session store filled up"})
    do(api, "percy", key, "raise_fix", {"title": "Bound the session store", "permanent_fix": "expiry",
                                        "estimated_hours": 2, "users_affected": 10, "donor_facing": False})
    do(api, "alice", key, "inform_user", {"user_informed_note": "permanent fix planned"})
    ok(api.post("/messages", "admin", json={"name": "change.implemented", "correlation": {"business_key": key},
                                            "data": {}}), 202)
    do(api, "percy", key, "review_fix", {"fix_effective": True})


def test_5_a_p1_goes_to_root_cause_analysis_whatever_the_desk_answers(shipped: Api) -> None:
    api = shipped
    key = _incident(api)
    assert record(api, key)["priority"] == "P1"
    do(api, "alice", key, "restore_first_line", {"resolution": "restarted", "resolved_first_line": True})
    do(api, "ivan", key, "confirm", {"user_confirmed": True})
    said = complete(api, "alice", key, "assess_impact", {"material_impact": False, "root_cause_required": False})
    assert set(refused(said)["details"]["fields"]) == {"root_cause_required"}  # the table decides it, no form
    do(api, "alice", key, "assess_impact", {"material_impact": False, "impact_note": "back within the hour"})
    assert record(api, key)["root_cause_required"] is True
    assert [t["element_id"] for t in ok(api.get(f"/instances/{key}", "heidi"))["tasks"]] == ["analyse_root_cause"]
    root_cause_addressed(api, key)
    do(api, "alice", key, "close", {"closure_note": "fixed for good"})
    assert ok(api.get(f"/instances/{key}", "heidi"))["status"] == "completed"
    assert _conformance(api, key) == {}


def _triaged(api: Api, **facts: Any) -> str:
    tri = ok(api.post("/records", "ivan", json={"option": "change", "data": {
        "title": "Donor CRM replacement", "service": "donor-crm", "description": "new CRM"}}), 201)["business_key"]
    do(api, "alice", tri, "register", {"record_kind": "rfc", "summary": "Donor CRM replacement",
                                       "service": "donor-crm", "reporter": "ivan"})
    do(api, "alice", tri, "assess_rfc", {"title": "Donor CRM replacement", "estimated_hours": 400,
                                         "users_affected": 200, "donor_facing": True, **facts})
    return tri


def test_6_a_project_keeps_the_cab_and_sponsor_decisions(shipped: Api) -> None:
    api = shipped
    tri = _triaged(api)
    assert record(api, tri)["change_class"] == "major"
    assert [t["element_id"] for t in ok(api.get(f"/instances/{tri}", "heidi"))["tasks"]] == ["approve_project_cab"]
    do(api, "dave", tri, "approve_project_cab", {"approved": True})
    do(api, "stella", tri, "approve_project_sponsor", {"approved": True})
    do(api, "carol", tri, "project_handoff", {"project_reference": "PRJ-1"})
    assert _conformance(api, tri) == {}


def test_7_no_tick_makes_an_emergency(shipped: Api) -> None:
    api = shipped
    tri = ok(api.post("/records", "ivan", json={"option": "change", "data": {
        "title": "Patch the portal", "service": "donor-portal", "description": "CVE"}}), 201)["business_key"]
    do(api, "alice", tri, "register", {"record_kind": "rfc", "summary": "Patch", "service": "donor-portal",
                                       "reporter": "ivan"})
    ticked = complete(api, "alice", tri, "assess_rfc", {"title": "Patch the portal", "estimated_hours": 1,
                                                        "users_affected": 5, "donor_facing": False,
                                                        "urgent_fix": True})
    assert set(refused(ticked)["details"]["fields"]) == {"urgent_fix"}  # refused where it enters, by name
    assert "urgent_fix" not in record(api, tri) and task(api, tri, "assess_rfc")
