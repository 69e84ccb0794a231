"""Scenarios of processes/change: every path of the change diagram, driven through the services as the roles would.

The release side is played by posting `release.deployed` from outside (test_change_release_flow.py runs the real
release process)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import select

from engine.db.database import Database, unit_of_work
from engine.db.models import Message
from engine.errors import NotAllowed
from engine.services import instances, messages, tasks
from engine.services.actors import Actor
from tests.conftest import ADMIN, ALICE, CAROL, DAVE, ERIN, IVAN
from tests.support import data, deploy_process, do, events, instance, open_tasks, task_ids

SAM = Actor("sam", frozenset({"executive_sponsor"}))
CORA = Actor("cora", frozenset({"change_manager"}))  # a second change manager


# ---------------------------------------------------------------- helpers
def raise_rfc(db: Database, actor: Actor | None = None, **data: Any) -> str:
    """An RFC for `actor` (ivan when not given), raised by a change manager (the roles the change diagram lets
    start it)."""
    rfc = {"title": "Upgrade the VPN concentrator", "description": "Firmware 9.2 fixes the tunnel drops",
           "service": "vpn", "requester": (actor or IVAN).username, **data}
    return instances.start(db, actor if actor is not None and actor.has("change_manager") else CORA,
                           "change", rfc).business_key


def assess(db: Database, key: str, hours: int = 2, users: int = 10, critical: bool = False,
           assessment: str = "valid", **more: Any) -> None:
    do(db, ERIN, key, "assess", {"assessment": assessment, "estimated_hours": hours, "users_affected": users,
                                 "donor_facing": critical, **more})


def open_incident(db: Database, impact: str = "high", urgency: str = "high") -> str:
    """An incident the service desk recorded and prioritised (high/high is P1), still open."""
    key = instances.start(db, IVAN, "response", {"query_type": "incident"}).business_key
    do(db, ALICE, key, "record", {"summary": "Edge routers flooded", "service": "vpn", "reporter": "ivan",
                                  "query_type": "incident", "impact": impact, "urgency": urgency})
    return key


def plan(db: Database, key: str, likelihood: int = 2, impact: int = 2) -> None:
    do(db, ERIN, key, "schedule", {"change_window_start": "2026-12-05", "change_window_end": "2026-12-06",
                                   "window_note": "agreed with the requester"})
    do(db, ERIN, key, "prepare", {"backout_plan": "Reflash firmware 9.1 from the config backup",
                                  "risk_likelihood": likelihood, "risk_impact": impact})


def inform(db: Database, key: str) -> None:
    do(db, CAROL, key, "inform_stakeholders", {"stakeholders_informed": True,
                                               "communication_note": "notice to the users affected, service desk"})


def report_release(db: Database, key: str, deployed: bool = True) -> None:
    """What the release process does when it closes: release.deployed to the change's business key."""
    messages.post(db, ADMIN, "release.deployed", {"business_key": key},
                  {"business_key": "REL-000900", "changes": [key], "deployed": deployed,
                   "rolled_back": not deployed, "lessons_learned": "test the failover first"})








def sent(db: Database, key: str) -> list[str]:
    return [e["data"]["name"] for e in events(db, key, "message.sent")]


def sent_payload(db: Database, name: str) -> dict[str, Any]:
    with unit_of_work(db) as uow:
        msg = uow.session.execute(select(Message).where(Message.name == name).order_by(Message.id.desc())).scalars()
        return json.loads(next(iter(msg)).payload_json)


def decided(db: Database, key: str) -> dict[str, dict[str, Any]]:
    return {e["data"]["decision"]: e["data"]["evaluation"] for e in events(db, key, "decision.evaluated")}


# ---------------------------------------------------------------- approval at the lowest competent level
def test_small_change_is_approved_by_the_it_manager_and_closes_when_deployed(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    key = raise_rfc(db)
    assert key.startswith("RFC-")
    assert task_ids(db, key) == ["assess"]
    assert data(db, key)["change_class"] == "normal"
    assess(db, key, hours=3, users=49)
    plan(db, key, likelihood=2, impact=3)

    record = data(db, key)
    assert (record["risk_level"], record["risk_category"], record["within_appetite"]) == (6, "medium", True)
    assert record["approver"] == "it_manager"
    assert set(decided(db, key)) == {"standard_change", "change_class", "risk", "decision_rights"}
    assert task_ids(db, key) == ["approve_it_manager"]

    do(db, CAROL, key, "approve_it_manager", {"approved": True, "approval_note": "go"})
    assert "release.requested" in sent(db, key)  # handed over to release at once; meanwhile stakeholders are told
    assert task_ids(db, key) == ["inform_stakeholders"]
    inform(db, key)
    assert instance(db, key)["status"] == "waiting"  # for release.deployed
    assert sent_payload(db, "release.requested")["business_key"] == key

    report_release(db, key)
    final = instance(db, key)
    assert final["status"] == "completed"
    assert final["data"]["implemented"] is True and final["data"]["approved"] is True
    assert final["data"]["release"] == "REL-000900"
    assert sent(db, key)[-1] == "change.implemented"
    assert [e["element_id"] for e in events(db, key, "message.delivered")] == ["wait_release"]


def test_larger_change_goes_to_the_cab(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    key = raise_rfc(db)
    assess(db, key, hours=6, users=120)
    plan(db, key)
    assert data(db, key)["approver"] == "cab"
    assert task_ids(db, key) == ["approve_cab"]
    with pytest.raises(NotAllowed):  # the IT manager has no say here
        do(db, CAROL, key, "approve_cab", {"approved": True})
    do(db, DAVE, key, "approve_cab", {"approved": True, "approval_note": "no conflicts this week"})
    inform(db, key)
    report_release(db, key)
    assert instance(db, key)["status"] == "completed"


def test_change_to_a_critical_service_needs_the_executive_sponsor(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    key = raise_rfc(db, service="grants portal")
    assess(db, key, hours=1, users=5, critical=True)
    plan(db, key, likelihood=1, impact=2)
    assert data(db, key)["approver"] == "executive_sponsor"
    do(db, SAM, key, "approve_sponsor", {"approved": True, "approval_note": "donors informed"})
    inform(db, key)
    assert instance(db, key)["status"] == "waiting"
    report_release(db, key)
    assert data(db, key)["implemented"] is True


@pytest.mark.parametrize(("likelihood", "impact", "category", "approver", "task"), [
    (4, 4, "high", "cab", "approve_cab"),
    (4, 5, "extreme", "executive_sponsor", "approve_sponsor"),
])
def test_risk_above_the_appetite_escalates_a_small_change(scenario_db: Database, likelihood: int, impact: int,
                                                          category: str, approver: str, task: str) -> None:
    db = scenario_db
    deploy_process(db, "change")
    key = raise_rfc(db)
    assess(db, key, hours=1, users=5)
    plan(db, key, likelihood=likelihood, impact=impact)
    record = data(db, key)
    assert (record["risk_category"], record["within_appetite"], record["approver"]) == (category, False, approver)
    assert task_ids(db, key) == [task]


def test_standard_change_needs_no_approval_but_is_still_implemented_and_closed(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    key = raise_rfc(db, title="Add a user to the finance share", standard_model="add_to_group", service="file-shares")
    assert data(db, key)["change_class"] == "normal"  # no size yet: no model's limits can be checked
    assess(db, key, hours=1, users=1)
    plan(db, key, likelihood=1, impact=1)
    record = instance(db, key)
    assert (record["data"]["change_class"], record["data"]["standard_match"]) == ("standard", True)
    assert record["data"]["approver"] == "implementing_team"
    assert record["data"]["approved"] is True
    assert [t["element_id"] for t in record["tasks"]] == ["inform_stakeholders"]
    assert not [e for e in events(db, key, "task.ready") if e["element_id"].startswith("approve")]
    report_release(db, key)  # the release is quicker than the communication this time
    assert instance(db, key)["status"] == "running"
    inform(db, key)
    assert instance(db, key)["status"] == "completed"
    assert data(db, key)["implemented"] is True


# ---------------------------------------------------------------- rejection, resubmission, withdrawal
def test_rejected_change_is_revised_and_resubmitted_by_the_requester(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    key = raise_rfc(db)
    assess(db, key)
    plan(db, key)
    do(db, CAROL, key, "approve_it_manager", {"approved": False, "approval_note": "not during the audit week"})
    assert task_ids(db, key) == ["revise_rfc"]
    do(db, IVAN, key, "revise_rfc", {"requester_decision": "resubmit", "title": "Upgrade the VPN after the audit",
                                     "revision_note": "moved after the audit"})
    assert task_ids(db, key) == ["assess"]
    assess(db, key)
    plan(db, key)
    do(db, CAROL, key, "approve_it_manager", {"approved": True})
    inform(db, key)
    report_release(db, key)
    final = data(db, key)
    assert final["implemented"] is True
    assert final["title"] == "Upgrade the VPN after the audit"  # the revision survives the wait for the release


def test_invalid_rfc_goes_back_to_the_requester_who_withdraws_it(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    key = raise_rfc(db)
    assess(db, key, assessment="invalid", assessment_note="the concentrator is being replaced next month")
    assert task_ids(db, key) == ["revise_rfc"]
    result = do(db, IVAN, key, "revise_rfc", {"requester_decision": "withdraw"})
    assert result["instance"]["status"] == "completed"
    assert sent(db, key) == ["change.implemented"]
    payload = sent_payload(db, "change.implemented")
    assert payload["implemented"] is False and payload["requester_decision"] == "withdraw"


def test_requester_is_consulted_until_the_details_are_clear(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    key = raise_rfc(db)
    for question in ("Which sites?", "Which firmware build exactly?"):
        assess(db, key, assessment="clarify", assessment_note=question)
        assert task_ids(db, key) == ["consult_requester"]
        do(db, IVAN, key, "consult_requester", {"clarification": f"answer to: {question}"})
    assess(db, key)
    assert task_ids(db, key) == ["schedule"]
    assert data(db, key)["clarification"] == "answer to: Which firmware build exactly?"


# ---------------------------------------------------------------- emergency, failure, separation of duties
def test_emergency_change_is_implemented_at_once_and_reviewed_afterwards(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    deploy_process(db, "response")
    key = raise_rfc(db, title="Block the DDoS source ranges", incident=open_incident(db))
    assert data(db, key)["change_class"] == "emergency" and data(db, key)["incident_priority"] == "P1"
    assert task_ids(db, key) == ["implement_emergency"]
    do(db, ERIN, key, "implement_emergency", {"implementation_note": "ACL pushed to the edge", "implemented": True})
    do(db, ERIN, key, "document_emergency", {
        "change_window_start": "2026-11-25", "change_window_end": "2026-11-25", "backout_plan": "remove the ACL",
        "risk_likelihood": 2, "risk_impact": 4, "estimated_hours": 1, "users_affected": 4000,
        "donor_facing": False})
    assert task_ids(db, key) == ["pir"]
    assert data(db, key)["risk_level"] == 8
    assert "decision_rights" not in decided(db, key)
    result = do(db, CAROL, key, "pir", {"approved": True, "review_note": "justified; ACL to be reviewed in a week"})
    assert result["instance"]["status"] == "completed"
    assert data(db, key)["implemented"] is True
    assert sent(db, key) == ["change.implemented"]  # no release: it was deployed at once


def test_failed_release_is_reviewed_and_the_change_closed_as_not_implemented(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    key = raise_rfc(db)
    assess(db, key)
    plan(db, key)
    do(db, CAROL, key, "approve_it_manager", {"approved": True})
    inform(db, key)
    report_release(db, key, deployed=False)
    assert task_ids(db, key) == ["review_failed"]
    assert data(db, key)["release_rolled_back"] is True
    do(db, CAROL, key, "review_failed", {"failure_review": "vendor firmware bug; a new RFC follows the fix"})
    final = instance(db, key)
    assert final["status"] == "completed" and final["data"]["implemented"] is False
    assert sent_payload(db, "change.implemented")["implemented"] is False


def test_requester_may_not_approve_their_own_change(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    key = raise_rfc(db, actor=CAROL)  # a change manager raising a change of her own
    assess(db, key)
    plan(db, key)
    with pytest.raises(NotAllowed, match="separation of duties"):
        do(db, CAROL, key, "approve_it_manager", {"approved": True})
    held = open_tasks(db, key)[0]
    assert held["element_id"] == "approve_it_manager" and held["assignee"] == "carol"
    tasks.unclaim(db, CAROL, held["id"])  # she hands it on to a colleague
    do(db, CORA, key, "approve_it_manager", {"approved": True})
    assert data(db, key)["approved"] is True


def test_requester_may_not_review_their_own_emergency_change(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    deploy_process(db, "response")
    key = raise_rfc(db, actor=CAROL, incident=open_incident(db))
    do(db, ERIN, key, "implement_emergency", {"implementation_note": "restarted the cluster", "implemented": True})
    do(db, ERIN, key, "document_emergency", {
        "change_window_start": "2026-11-25", "change_window_end": "2026-11-25", "backout_plan": "none needed",
        "risk_likelihood": 1, "risk_impact": 1, "estimated_hours": 1, "users_affected": 10, "donor_facing": False})
    with pytest.raises(NotAllowed):
        do(db, CAROL, key, "pir", {"approved": True, "review_note": "fine"})


# ---------------------------------------------------------------- raised by another process
def test_rfc_raised_by_a_response_record_without_a_class_is_a_normal_change(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    routing = messages.post(db, ADMIN, "rfc.raised", {"business_key": "INC-000042"},
                            {"summary": "Mail outage", "description": "Mail bounced for two hours",
                             "title": "Permanent fix: replace the failing mail relay", "service": "mail",
                             "permanent_fix": "Replace relay MX2 with the new appliance", "reporter": "ivan",
                             "priority": "P2"})
    assert len(routing.started) == 1
    with unit_of_work(db) as uow:
        key = uow.session.get(instances.ProcessInstance, routing.started[0]).business_key
    record = data(db, key)
    assert record["origin_key"] == "INC-000042"
    assert record["change_class"] == "normal"
    assert record["title"] == "Permanent fix: replace the failing mail relay"
    assert record["description"] == "Replace relay MX2 with the new appliance"  # what must change
    assert "rfc_raised" not in record
    assess(db, key)
    plan(db, key)
    with pytest.raises(NotAllowed):  # the reporter of the incident counts as the requester
        do(db, Actor("ivan", frozenset({"change_manager"})), key, "approve_it_manager", {"approved": True})


# ---------------------------------------------------------------- long rework loop
def test_rework_loop_1000_rounds(scenario_db: Database) -> None:
    """The requester-consultation loop (assess -> clarify -> assess) 1,000 times, then the change goes on."""
    db = scenario_db
    deploy_process(db, "change")
    key = raise_rfc(db)
    began = time.perf_counter()
    for n in range(1000):
        assess(db, key, assessment="clarify", assessment_note=f"question {n}")
        do(db, IVAN, key, "consult_requester", {"clarification": f"answer {n}"})
    elapsed = time.perf_counter() - began
    print(f"\nchange requester-consultation loop: 1,000 rounds (2,000 task completions) in {elapsed:.1f} s")
    assess(db, key)
    plan(db, key)
    do(db, CAROL, key, "approve_it_manager", {"approved": True})
    inform(db, key)
    report_release(db, key)
    final = instance(db, key)
    assert final["status"] == "completed" and final["data"]["clarification"] == "answer 999"
    assert len([e for e in events(db, key, "task.completed") if e["element_id"] == "consult_requester"]) == 1000


# ---------------------------------------------------------------- an emergency judged afterwards
def _emergency(db: Database, donor_facing: bool) -> str:
    deploy_process(db, "change")
    deploy_process(db, "response")
    key = raise_rfc(db, title="Block the DDoS source ranges", incident=open_incident(db))
    do(db, ERIN, key, "implement_emergency", {"implementation_note": "ACL pushed to the edge", "implemented": True})
    do(db, ERIN, key, "document_emergency", {
        "change_window_start": "2026-11-25", "change_window_end": "2026-11-25", "backout_plan": "remove the ACL",
        "risk_likelihood": 2, "risk_impact": 2, "estimated_hours": 1, "users_affected": 40,
        "donor_facing": donor_facing})
    return key


def test_a_donor_facing_emergency_is_signed_off_by_the_sponsor_afterwards(scenario_db: Database) -> None:
    db = scenario_db
    key = _emergency(db, donor_facing=True)
    do(db, CAROL, key, "pir", {"approved": True, "review_note": "justified"})
    assert task_ids(db, key) == ["approve_sponsor_retro"]
    result = do(db, SAM, key, "approve_sponsor_retro", {"approved": True, "sponsor_note": "donors were told"})
    assert result["instance"]["status"] == "completed" and data(db, key)["implemented"] is True


@pytest.mark.parametrize("refused_by", ["pir", "sponsor"])
def test_an_emergency_not_accepted_afterwards_is_backed_out_and_reported_as_not_implemented(
        scenario_db: Database, refused_by: str) -> None:
    db = scenario_db
    key = _emergency(db, donor_facing=refused_by == "sponsor")
    do(db, CAROL, key, "pir", {"approved": refused_by != "pir", "review_note": "the ACL blocked donors too"})
    if refused_by == "sponsor":
        do(db, SAM, key, "approve_sponsor_retro", {"approved": False, "sponsor_note": "not acceptable"})
    assert task_ids(db, key) == ["back_out"]
    result = do(db, ERIN, key, "back_out", {"follow_up": "backed_out", "follow_up_note": "ACL removed at 14:10"})
    assert result["instance"]["status"] == "completed"
    final = data(db, key)
    assert (final["implemented"], final["accepted"]) == (False, False)
    payload = sent_payload(db, "change.implemented")
    assert payload["implemented"] is False and payload["accepted"] is False
