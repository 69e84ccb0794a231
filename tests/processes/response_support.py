"""Shared by the response scenario files: the roles, a recorded incident, the stub change, small readers."""

from datetime import UTC, datetime
from typing import Any

from engine.db.database import Database, unit_of_work
from engine.services import instances, messages
from engine.services.actors import Actor
from tests.conftest import ADMIN, ALICE, HEIDI, IVAN
from tests.support import do, events, open_tasks

PAT = Actor("pat", frozenset({"problem_team", "requester"}))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

RECORD = {"summary": "Mail does not arrive", "description": "Since 8:00, no mail in the Lagos office",
          "service": "mail", "reporter": "ivan"}

# The change side, reduced to what response relies on: it starts on rfc.raised (origin_key = the record's key)
# and, once implemented, throws change.implemented back to its origin.
STUB_CHANGE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="stub_definitions" targetNamespace="http://test">
  <bpmn:message id="stub_msg_raised" name="rfc.raised" />
  <bpmn:message id="stub_msg_implemented" name="change.implemented" />
  <bpmn:process id="change" name="Change (test stub)" isExecutable="true">
    <bpmn:extensionElements><camunda:properties>
      <camunda:property name="key_prefix" value="RFC" /></camunda:properties></bpmn:extensionElements>
    <bpmn:startEvent id="stub_start"><bpmn:outgoing>stub_f1</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="stub_msg_raised" /></bpmn:startEvent>
    <bpmn:userTask id="stub_implement" name="Implement" camunda:candidateGroups="implementer">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="implemented" label="Implemented" type="boolean" />
      </camunda:formData></bpmn:extensionElements>
      <bpmn:incoming>stub_f1</bpmn:incoming><bpmn:outgoing>stub_f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="stub_end"><bpmn:incoming>stub_f2</bpmn:incoming>
      <bpmn:messageEventDefinition messageRef="stub_msg_implemented" /></bpmn:endEvent>
    <bpmn:sequenceFlow id="stub_f1" sourceRef="stub_start" targetRef="stub_implement" />
    <bpmn:sequenceFlow id="stub_f2" sourceRef="stub_implement" targetRef="stub_end" />
  </bpmn:process>
</bpmn:definitions>"""


# --- helpers -----------------------------------------------------------------------------------------------
def open_ids(db: Database, key: str) -> list[str]:
    return sorted(t["element_id"] for t in open_tasks(db, key))


def matched_rules(db: Database, key: str, element_id: str) -> list[list[str]]:
    return [e["data"]["evaluation"]["matched"] for e in events(db, key, "decision.evaluated")
            if e["element_id"] == element_id]


def flows(db: Database, key: str) -> list[str]:
    with unit_of_work(db) as uow:
        return instances.path(uow, instances.find(uow, HEIDI, key))["flows"]


def started_from(db: Database, origin: str) -> list[dict[str, Any]]:
    with unit_of_work(db) as uow:
        rows, _ = instances.list_instances(uow, HEIDI, limit=200)
        return [instances.view(uow, r, with_tasks=False) for r in rows if r.origin_key == origin]


def new_record(db: Database, query_type: str = "incident", impact: str = "medium", urgency: str = "medium",
               start: dict[str, Any] | None = None) -> str:
    """A user reports; the service desk records, classifies and prioritises."""
    inst = instances.start(db, IVAN, "response", start if start is not None else {"query_type": query_type})
    key = inst.business_key
    do(db, ALICE, key, "record", {**RECORD, "query_type": query_type, "impact": impact, "urgency": urgency})
    return key


def confirm_and_close(db: Database, key: str, material: bool | None = None, **closing: Any) -> dict[str, Any]:
    do(db, IVAN, key, "confirm", {"user_confirmed": True, "feedback": "thanks"})
    if material is not None:
        do(db, ALICE, key, "assess_impact", {"material_impact": material})
    return do(db, ALICE, key, "close", {"closure_note": "closed with the user", **closing})


def to_root_cause(db: Database, key: str) -> None:
    """A P1 incident restored at first line, confirmed, judged to have had a material effect."""
    do(db, ALICE, key, "restore_first_line", {"resolution": "failed over to the spare", "resolved_first_line": True})
    do(db, IVAN, key, "confirm", {"user_confirmed": True})
    do(db, ALICE, key, "assess_impact", {"material_impact": True, "impact_note": "payroll run missed"})


FIX = {"title": "Replace the failing mail relay", "permanent_fix": "new relay pair",
       "estimated_hours": 6, "users_affected": 300, "donor_facing": True}  # the change process computes the class


def fix_root_cause(db: Database, key: str) -> None:
    """A record the root_cause table (P1 incident) or the desk sent to root-cause analysis, addressed: root cause,
    an RFC, the user told, the change's report posted (no change process needed), the fix reviewed."""
    assert "analyse_root_cause" in open_ids(db, key)
    do(db, PAT, key, "analyse_root_cause", {"root_cause": "relay firmware leaks memory"})
    do(db, PAT, key, "raise_fix", FIX)
    do(db, ALICE, key, "inform_user", {"user_informed_note": "permanent fix under way"})
    messages.post(db, ADMIN, "change.implemented", {"business_key": key}, {})
    do(db, PAT, key, "review_fix", {"fix_effective": True})
