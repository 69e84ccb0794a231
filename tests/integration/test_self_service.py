"""A requester's own records across linked records: the triage record, the incident it handed on (named on as
reporter, not its starter), what happens next, the public timeline, withdrawing."""

from __future__ import annotations

import pytest

from engine.db.database import Database, unit_of_work
from engine.errors import BadRequest, NotAllowed
from engine.services import conversation, record_access, self_service
from engine.services.actors import Actor
from tests.bpmn_snippets import HEAD
from tests.conftest import ALICE, BOB, IVAN
from tests.support import deploy_xml, do, instance

# Intake (started by the desk for ivan) hands the record on as a message; "handle" starts from it, with ivan as
# reporter; then ivan has to confirm.
INTAKE = (f'{HEAD}<bpmn:message id="m1" name="handoff"/><bpmn:process id="intake" isExecutable="true">'
          '<bpmn:startEvent id="s"/>'
          '<bpmn:userTask id="register" name="Register" camunda:candidateGroups="service_desk"/>'
          '<bpmn:endEvent id="e"><bpmn:messageEventDefinition messageRef="m1"/></bpmn:endEvent>'
          '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="register"/>'
          '<bpmn:sequenceFlow id="f2" sourceRef="register" targetRef="e"/></bpmn:process></bpmn:definitions>')
HANDLE = (f'{HEAD}<bpmn:message id="m1" name="handoff"/><bpmn:process id="handle" isExecutable="true">'
          '<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="m1"/></bpmn:startEvent>'
          '<bpmn:userTask id="fix" name="Fix it" camunda:candidateGroups="resolver"/>'
          '<bpmn:userTask id="confirm" name="Confirm it works" camunda:candidateGroups="requester" '
          'camunda:assignee="${reporter}"/><bpmn:endEvent id="e"/>'
          '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="fix"/>'
          '<bpmn:sequenceFlow id="f2" sourceRef="fix" targetRef="confirm"/>'
          '<bpmn:sequenceFlow id="f3" sourceRef="confirm" targetRef="e"/></bpmn:process></bpmn:definitions>')


@pytest.fixture
def chain_of_records(db: Database) -> tuple[str, str]:
    from engine.services import instances

    deploy_xml(db, HANDLE)
    deploy_xml(db, INTAKE)
    tri = instances.start(db, ALICE, "intake", {"summary": "Laptop will not boot", "reporter": "ivan"}).business_key
    do(db, ALICE, tri, "register")
    with unit_of_work(db) as uow:
        handed = [r for r in record_access.own_records(uow, IVAN) if r.process_key == "handle"]
    assert len(handed) == 1
    return tri, handed[0].business_key


def test_the_requester_sees_every_linked_record_and_what_happens_next(db: Database,
                                                                      chain_of_records: tuple[str, str]) -> None:
    tri, inc = chain_of_records
    assert instance(db, inc)["data"]["reporter"] == "ivan" and instance(db, inc)["origin_key"] == tri
    with unit_of_work(db) as uow:
        rows = {r["business_key"]: r for r in self_service.overview(uow, IVAN)}
        assert set(rows) == {tri, inc}
        assert rows[tri]["status"] == "completed" and rows[inc]["next"]["text"] == "Fix it: with resolver"
        page = self_service.record(uow, IVAN, inc)  # not its starter: the record is his as its reporter
        assert [x["business_key"] for x in page["linked"]] == [tri]
        assert [e["text"] for e in page["timeline"]] == [f"Raised from {tri}", "Waiting for “Fix it”"]
        with pytest.raises(NotAllowed):
            self_service.record(uow, Actor("mallory", frozenset({"requester"})), inc)
    conversation.add_comment(db, BOB, inc, "Ordering a new disk", "public")
    conversation.add_comment(db, BOB, inc, "Disk SMART errors", "internal")
    do(db, BOB, inc, "fix")
    with unit_of_work(db) as uow:
        page = self_service.record(uow, IVAN, inc)
    assert page["next"]["text"] == "Waiting for you: Confirm it works"
    assert [t["name"] for t in page["next"]["yours"]] == ["Confirm it works"]
    texts = [e["text"] for e in page["timeline"]]
    assert "Comment: Ordering a new disk" in texts and not any("SMART" in t for t in texts)
    assert "“Fix it” done" in texts


def test_withdrawing_a_record(db: Database, chain_of_records: tuple[str, str]) -> None:
    tri, inc = chain_of_records
    with pytest.raises(BadRequest):
        self_service.withdraw(db, IVAN, inc, "  ")
    with pytest.raises(NotAllowed):
        self_service.withdraw(db, BOB, inc, "not mine")
    with pytest.raises(BadRequest, match="nothing to withdraw"):
        self_service.withdraw(db, IVAN, tri, "already done")
    assert self_service.withdraw(db, IVAN, inc, "It works again after a restart")["status"] == "cancelled"
    view = instance(db, inc)
    assert view["status"] == "cancelled" and view["tasks"] == []
    with unit_of_work(db) as uow:
        page = self_service.record(uow, IVAN, inc)
    assert page["timeline"][-1]["text"] == "Withdrawn: It works again after a restart"
    assert page["may_withdraw"] is False
