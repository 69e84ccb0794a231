"""Scenarios of processes/triage: the service desk registers what comes in; requests for change are classed by the
triage table and routed (ITSM.express, Change Management: "send the RFC either into the regular change management
process, or to Request Fulfilment or to a project organization"); everything else goes to response."""

from __future__ import annotations

from typing import Any

import pytest

from engine.db.database import Database, unit_of_work
from engine.errors import NotAllowed, ValidationFailed
from engine.services import audit, instances, tasks
from tests.conftest import ALICE, CAROL, DAVE, HEIDI, IVAN, SAM
from tests.support import deploy_process, deploy_xml, do, events, instance, task_for

# The change side as far as triage relies on it: a process that starts on rfc.raised.
STUB_CHANGE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="stub_definitions" targetNamespace="http://test">
  <bpmn:message id="stub_msg_raised" name="rfc.raised" />
  <bpmn:process id="change" name="Change (test stub)" isExecutable="true">
    <bpmn:extensionElements><camunda:properties>
      <camunda:property name="key_prefix" value="RFC" /></camunda:properties></bpmn:extensionElements>
    <bpmn:startEvent id="stub_start"><bpmn:outgoing>stub_f1</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="stub_msg_raised" /></bpmn:startEvent>
    <bpmn:userTask id="stub_assess" name="Assess" camunda:candidateGroups="implementer">
      <bpmn:incoming>stub_f1</bpmn:incoming></bpmn:userTask>
    <bpmn:sequenceFlow id="stub_f1" sourceRef="stub_start" targetRef="stub_assess" />
  </bpmn:process>
</bpmn:definitions>"""

REGISTERED = {"summary": "Cannot open the payroll report", "description": "error 500 since this morning",
              "service": "payroll", "reporter": "ivan"}
RFC = {"summary": "Add a field to the payroll export", "service": "payroll", "reporter": "ivan"}


def downstream(db: Database, origin: str) -> list[dict[str, Any]]:
    with unit_of_work(db) as uow:
        rows, _ = instances.list_instances(uow, HEIDI, limit=200)
        return [instances.view(uow, r) for r in rows if r.origin_key == origin]


def matched(db: Database, key: str) -> list[str]:
    with unit_of_work(db) as uow:
        inst = instances.find(uow, HEIDI, key)
        found = [audit.event_view(e) for e in audit.instance_events(uow, inst.id) if e.type == "decision.evaluated"]
    (event,) = found
    assert event["element_id"] == "classify_change" and event["data"]["decision"] == "rfc_triage"
    return event["data"]["evaluation"]["matched"]


def triage_rfc(db: Database, **facts: Any) -> str:
    key = instances.start(db, IVAN, "triage", {}).business_key
    do(db, ALICE, key, "register", {**RFC, "record_kind": "rfc"})
    assessed = {"title": "Payroll export: cost centre column", "estimated_hours": 4, "users_affected": 20,
                "donor_facing": False, **facts}
    do(db, ALICE, key, "assess_rfc", assessed)
    return key


def incident(db: Database, impact: str = "high", urgency: str = "high") -> str:
    """An open incident, prioritised by the desk (high/high is P1)."""
    key = instances.start(db, IVAN, "response", {"query_type": "incident"}).business_key
    do(db, ALICE, key, "record", {**REGISTERED, "query_type": "incident", "impact": impact, "urgency": urgency})
    return key


@pytest.fixture
def db(scenario_db: Database) -> Database:
    deploy_process(scenario_db, "triage")
    deploy_process(scenario_db, "response")
    return scenario_db


@pytest.mark.parametrize(("kind", "prefix", "query_type"), [
    ("incident", "INC-", "incident"),
    ("request", "REQ-", "entitlement"),
    ("information", "REQ-", "information"),
])
def test_queries_go_to_response(db: Database, kind: str, prefix: str, query_type: str) -> None:
    key = instances.start(db, IVAN, "triage", {}).business_key
    assert key.startswith("TRI-")
    result = do(db, ALICE, key, "register", {**REGISTERED, "record_kind": kind})
    assert result["instance"]["status"] == "completed"

    (record,) = downstream(db, key)
    assert record["process"] == "response" and record["business_key"].startswith(prefix)
    assert record["data"]["query_type"] == query_type
    assert record["data"]["summary"] == REGISTERED["summary"] and record["data"]["reporter"] == "ivan"
    assert [t["element_id"] for t in record["tasks"]] == ["record"]  # the desk classifies and prioritises it


@pytest.mark.parametrize(("linked", "change_class", "rule"), [
    (None, "normal", "rfc_triage_normal"),
    ("P3", "normal", "rfc_triage_normal"),  # an incident of low priority makes no emergency
    ("P1", "emergency", "rfc_triage_emergency"),
])
def test_normal_and_emergency_changes_go_to_change_management(db: Database, linked: str | None,
                                                              change_class: str, rule: str) -> None:
    deploy_xml(db, STUB_CHANGE)
    facts: dict[str, Any] = {}
    if linked:
        facts["incident"] = incident(db, *(("high", "high") if linked == "P1" else ("low", "low")))
    key = triage_rfc(db, **facts)
    assert matched(db, key) == [rule]
    assert instance(db, key)["status"] == "completed"

    (rfc,) = downstream(db, key)
    assert rfc["process"] == "change" and rfc["business_key"].startswith("RFC-")
    data = rfc["data"]
    assert data["change_class"] == change_class and data["title"] == "Payroll export: cost centre column"
    assert (data["estimated_hours"], data["users_affected"]) == (4, 20)
    assert data["service"] == "payroll" and data["reporter"] == "ivan"


def test_the_urgent_label_is_gone_and_a_closed_or_unknown_incident_makes_no_emergency(db: Database) -> None:
    deploy_xml(db, STUB_CHANGE)
    key = instances.start(db, IVAN, "triage", {}).business_key
    do(db, ALICE, key, "register", {**RFC, "record_kind": "rfc"})
    with pytest.raises(ValidationFailed) as refused:
        do(db, ALICE, key, "assess_rfc", {"title": "x", "estimated_hours": 1, "users_affected": 1,
                                          "donor_facing": False, "incident": "INC-999999"})
    assert "no record" in refused.value.details["fields"]["incident"]


@pytest.mark.parametrize(("facts", "rule", "donor_facing"), [
    ({"estimated_hours": 160}, "rfc_triage_major_effort", False),
    ({"users_affected": 2500}, "rfc_triage_major_reach", True),
])
def test_major_change_is_approved_then_handed_to_a_project(db: Database, facts: dict[str, Any], rule: str,
                                                           donor_facing: bool) -> None:
    deploy_process(db, "change")  # its separation-of-duties table rules the approvals here too
    key = triage_rfc(db, donor_facing=donor_facing, **facts)
    assert matched(db, key) == [rule]
    assert instance(db, key)["data"]["change_class"] == "major"
    with pytest.raises(NotAllowed):
        do(db, ALICE, key, "approve_project_cab", {"approved": True})  # the desk has no say
    do(db, DAVE, key, "approve_project_cab", {"approved": True, "approval_note": "fund it as a project"})
    if donor_facing:
        do(db, SAM, key, "approve_project_sponsor", {"approved": True, "approval_note": "donors first"})
    handoff = task_for(db, key, "project_handoff")
    with pytest.raises(NotAllowed):
        tasks.claim(db, ALICE, handoff["id"])  # the change manager records where it went
    result = do(db, CAROL, key, "project_handoff", {"project_reference": "PRJ-2026-07",
                                                    "project_sponsor": "finance director"})
    assert result["instance"]["status"] == "completed"
    assert instance(db, key)["data"]["project_reference"] == "PRJ-2026-07"
    assert downstream(db, key) == []  # neither change nor response: the project runs it


@pytest.mark.parametrize("refused_by", ["cab", "sponsor"])
def test_a_project_not_approved_ends_in_triage(db: Database, refused_by: str) -> None:
    deploy_process(db, "change")
    key = triage_rfc(db, estimated_hours=200, donor_facing=True)
    do(db, DAVE, key, "approve_project_cab", {"approved": refused_by != "cab"})
    if refused_by == "sponsor":
        do(db, SAM, key, "approve_project_sponsor", {"approved": False, "approval_note": "not now"})
    final = instance(db, key)
    assert final["status"] == "completed" and final["data"]["approved"] is False
    assert [e["element_id"] for e in events(db, key, "task.completed")][-1] in ("approve_project_cab",
                                                                                "approve_project_sponsor")


def test_a_normal_change_starts_the_real_change_process(db: Database) -> None:
    deploy_process(db, "change")
    key = triage_rfc(db, donor_facing=True)
    (rfc,) = downstream(db, key)
    assert rfc["process"] == "change" and rfc["status"] in ("running", "waiting")
    assert rfc["data"]["title"] == "Payroll export: cost centre column"
    assert rfc["data"]["change_class"] == "normal" and rfc["data"]["donor_facing"] is True
    assert rfc["tasks"], "the change process should be waiting for its first step"
