"""Timers fire with nobody clicking; messages move between instances; nothing is dropped."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from engine.db.database import Database, unit_of_work
from engine.db.models import Message
from engine.services import audit, instances, messages, timers
from tests.bpmn_snippets import HEAD, chain, user_task
from tests.conftest import ADMIN, BOB, IVAN
from tests.support import deploy_xml, do, instance


def _timer_process(kind: str, expression: str, interrupting: bool = False) -> str:
    cancel = "true" if interrupting else "false"
    return chain("t", [user_task(0, name="Respond")], extra=(
        f'<bpmn:boundaryEvent id="sla" attachedToRef="n0" cancelActivity="{cancel}"><bpmn:timerEventDefinition>'
        f'<bpmn:{kind}>{expression}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
        '<bpmn:userTask id="escalate" name="Escalate" camunda:candidateGroups="service_desk"/>'
        '<bpmn:endEvent id="escalated"/>'
        '<bpmn:sequenceFlow id="e1" sourceRef="sla" targetRef="escalate"/>'
        '<bpmn:sequenceFlow id="e2" sourceRef="escalate" targetRef="escalated"/>'))


def _later(**delta: float):  # type: ignore[no-untyped-def]
    return time_machine.travel(datetime.now(UTC) + timedelta(**delta), tick=False)


def _open(db: Database, key: str) -> list[str]:
    return sorted(t["element_id"] for t in instance(db, key)["tasks"])


def test_sla_timer_from_data_escalates_after_the_target_not_before(db: Database) -> None:
    deploy_xml(db, _timer_process("timeDuration", "${respond_target}"))
    key = instances.start(db, IVAN, "t", {"respond_target": "PT4H"}).business_key
    view = instance(db, key)
    due = datetime.fromisoformat(view["next_wakeup_at"])
    assert timedelta(hours=3, minutes=59) < due - datetime.now(UTC) <= timedelta(hours=4)
    assert view["tasks"][0]["due_at"] == view["next_wakeup_at"]
    with _later(hours=3, minutes=50):
        assert timers.fire_due(db).instances == 0
        assert _open(db, key) == ["n0"]
    with _later(hours=4, minutes=1):
        assert timers.fire_due(db).instances == 1
        assert _open(db, key) == ["escalate", "n0"]  # escalated, and the work item is still open
        assert timers.fire_due(db).instances == 0  # fires once
    with unit_of_work(db) as uow:
        fired = [e for e in audit.instance_events(uow, view["id"]) if e.type == "timer.fired"]
    assert len(fired) == 1 and fired[0].element_id == "sla"


def test_interrupting_timer_cancels_the_task(db: Database) -> None:
    deploy_xml(db, _timer_process("timeDuration", "PT30M", interrupting=True))
    key = instances.start(db, IVAN, "t", {}).business_key
    with _later(minutes=31):
        timers.fire_due(db)
    assert _open(db, key) == ["escalate"]


def test_date_and_cycle_timers(db: Database) -> None:
    when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    deploy_xml(db, _timer_process("timeDate", when))
    key = instances.start(db, IVAN, "t", {}).business_key
    with _later(days=1):
        assert timers.fire_due(db).instances == 0
    with _later(days=2, minutes=1):
        assert timers.fire_due(db).instances == 1
    assert _open(db, key) == ["escalate", "n0"]
    deploy_xml(db, _timer_process("timeCycle", "R2/PT10M"))
    key2 = instances.start(db, IVAN, "t", {}).business_key
    with _later(minutes=11):
        timers.fire_due(db)
    with _later(minutes=22):
        timers.fire_due(db)
    with _later(minutes=60):
        timers.fire_due(db)
    assert _open(db, key2).count("escalate") == 2  # R2: exactly two escalations


def test_worker_once_with_nothing_due(db: Database) -> None:
    assert timers.run_worker(db, once=True) == 0
    status = timers.status(db)
    assert status["due_timers"] == 0 and status["workers"][0]["alive"]


PING_PONG = {
    "caller": (f'{HEAD}<bpmn:message id="m1" name="help.requested"/><bpmn:message id="m2" name="help.given"/>'
               '<bpmn:process id="caller" isExecutable="true"><bpmn:startEvent id="s"/>'
               '<bpmn:intermediateThrowEvent id="ask"><bpmn:messageEventDefinition messageRef="m1"/>'
               '</bpmn:intermediateThrowEvent>'
               '<bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="m2"/>'
               '</bpmn:intermediateCatchEvent><bpmn:endEvent id="e"/>'
               '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="ask"/>'
               '<bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="wait"/>'
               '<bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="e"/></bpmn:process></bpmn:definitions>'),
    "helper": (f'{HEAD}<bpmn:message id="m1" name="help.requested"/><bpmn:message id="m2" name="help.given"/>'
               '<bpmn:process id="helper" isExecutable="true">'
               '<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="m1"/></bpmn:startEvent>'
               '<bpmn:userTask id="help" camunda:candidateGroups="resolver"/>'
               '<bpmn:endEvent id="e"><bpmn:messageEventDefinition messageRef="m2"/></bpmn:endEvent>'
               '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="help"/>'
               '<bpmn:sequenceFlow id="f2" sourceRef="help" targetRef="e"/></bpmn:process></bpmn:definitions>'),
}


def test_message_starts_a_process_and_the_reply_wakes_the_sender(db: Database) -> None:
    deploy_xml(db, PING_PONG["helper"])
    deploy_xml(db, PING_PONG["caller"])
    caller = instances.start(db, IVAN, "caller", {"topic": "vpn"})
    assert instance(db, caller.business_key)["status"] == "waiting"
    with unit_of_work(db) as uow:
        helper = instances.related(uow, instances.find(uow, ADMIN, caller.business_key))[0]
    assert helper["process"] == "helper" and helper["relation"] == "started"
    helper_view = instance(db, helper["business_key"])
    assert helper_view["data"]["topic"] == "vpn" and helper_view["origin_key"] == caller.business_key
    do(db, BOB, helper["business_key"], "help")
    done = instance(db, caller.business_key)
    assert done["status"] == "completed" and done["data"]["help_given"]["topic"] == "vpn"
    with unit_of_work(db) as uow:
        for key in (caller.business_key, helper["business_key"]):
            inst = instances.find(uow, ADMIN, key)
            assert "message.delivered" in [e.type for e in audit.instance_events(uow, inst.id)], key


def test_unrouted_message_is_kept_and_delivered_later(db: Database) -> None:
    deploy_xml(db, PING_PONG["caller"])  # nobody answers help.requested yet
    caller = instances.start(db, IVAN, "caller", {})
    with unit_of_work(db) as uow:
        kept = uow.session.execute(select(Message).where(Message.name == "help.requested")).scalar_one()
        assert kept.status == "unrouted"
        assert messages.undelivered(uow)[0]["name"] == "help.requested"
    deploy_xml(db, PING_PONG["helper"])
    assert messages.retry_unrouted(db) == 1
    with unit_of_work(db) as uow:
        assert messages.undelivered(uow) == []
        related = instances.related(uow, instances.find(uow, ADMIN, caller.business_key))
    assert related[0]["process"] == "helper"


def test_posted_message_reaches_the_waiting_instance(db: Database) -> None:
    deploy_xml(db, PING_PONG["helper"])
    deploy_xml(db, PING_PONG["caller"])
    caller = instances.start(db, IVAN, "caller", {})
    result = messages.post(db, ADMIN, "help.given", {"business_key": caller.business_key}, {"answer": 42})
    assert result.delivered_to == [caller.id]
    view = instance(db, caller.business_key)
    assert view["status"] == "completed" and view["data"]["help_given"] == {"answer": 42}
    with unit_of_work(db) as uow:
        stored = uow.session.execute(select(Message).where(Message.name == "help.given")).scalar_one()
        assert json.loads(stored.delivered_to_json) == [caller.id]
