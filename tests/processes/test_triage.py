"""Scenarios of processes/triage: the service desk registers what comes in; requests for change are classed by the
triage table and routed (ITSM.express, Change Management: "send the RFC either into the regular change management
process, or to Request Fulfilment or to a project organization"); everything else goes to response."""

from __future__ import annotations

from typing import Any

import pytest

from engine.db.database import Database, unit_of_work
from engine.errors import NotAllowed
from engine.services import audit, instances, tasks
from tests.conftest import ALICE, CAROL, HEIDI, IVAN
from tests.support import deploy_process, deploy_xml, do, instance, open_tasks, task_for

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
                "critical_service": False, "pre_approved": False, "urgent_fix": False, **facts}
    do(db, ALICE, key, "assess_rfc", assessed)
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


def test_standard_change_is_fulfilled_as_a_request_without_approval(db: Database) -> None:
    key = triage_rfc(db, pre_approved=True, estimated_hours=1, users_affected=3)
    assert matched(db, key) == ["rfc_triage_standard"]
    assert instance(db, key)["status"] == "completed"

    (request,) = downstream(db, key)
    assert request["process"] == "response" and request["business_key"].startswith("REQ-")
    assert request["data"]["change_class"] == "standard" and request["data"]["query_type"] == "entitlement"
    # request fulfilment: the service desk validates and fulfils it; nobody approves
    rec = request["business_key"]
    do(db, ALICE, rec, "record", {**RFC, "query_type": "entitlement", "impact": "low", "urgency": "medium"})
    assert [t["element_id"] for t in open_tasks(db, rec)] == ["validate_entitlement"]


@pytest.mark.parametrize(("facts", "change_class", "rule"), [
    ({}, "normal", "rfc_triage_normal"),
    ({"pre_approved": True, "critical_service": True}, "normal", "rfc_triage_normal"),
    ({"urgent_fix": True, "critical_service": True}, "emergency", "rfc_triage_emergency"),
])
def test_normal_and_emergency_changes_go_to_change_management(db: Database, facts: dict[str, Any],
                                                              change_class: str, rule: str) -> None:
    deploy_xml(db, STUB_CHANGE)
    key = triage_rfc(db, **facts)
    assert matched(db, key) == [rule]
    assert instance(db, key)["status"] == "completed"

    (rfc,) = downstream(db, key)
    assert rfc["process"] == "change" and rfc["business_key"].startswith("RFC-")
    data = rfc["data"]
    assert data["change_class"] == change_class and data["title"] == "Payroll export: cost centre column"
    assert (data["estimated_hours"], data["users_affected"]) == (4, 20)
    assert data["service"] == "payroll" and data["reporter"] == "ivan"
    assert data["critical_service"] is facts.get("critical_service", False)


@pytest.mark.parametrize(("facts", "rule"), [
    ({"estimated_hours": 160}, "rfc_triage_major_effort"),
    ({"users_affected": 2500, "pre_approved": True}, "rfc_triage_major_reach"),
])
def test_major_change_is_handed_to_a_project(db: Database, facts: dict[str, Any], rule: str) -> None:
    deploy_xml(db, STUB_CHANGE)
    key = triage_rfc(db, **facts)
    assert matched(db, key) == [rule]
    assert instance(db, key)["data"]["change_class"] == "major"
    handoff = task_for(db, key, "project_handoff")
    with pytest.raises(NotAllowed):
        tasks.claim(db, ALICE, handoff["id"])  # the change manager records where it went
    result = do(db, CAROL, key, "project_handoff", {"project_reference": "PRJ-2026-07",
                                                    "project_sponsor": "finance director"})
    assert result["instance"]["status"] == "completed"
    assert instance(db, key)["data"]["project_reference"] == "PRJ-2026-07"
    assert downstream(db, key) == []  # neither change nor response: the project runs it


def test_a_normal_change_starts_the_real_change_process(db: Database) -> None:
    deploy_process(db, "change")
    key = triage_rfc(db, critical_service=True)
    (rfc,) = downstream(db, key)
    assert rfc["process"] == "change" and rfc["status"] in ("running", "waiting")
    assert rfc["data"]["title"] == "Payroll export: cost centre column"
    assert rfc["data"]["change_class"] == "normal" and rfc["data"]["critical_service"] is True
    assert rfc["tasks"], "the change process should be waiting for its first step"
