"""Administrative acts: mandatory reasons, audit events with old and new values, the engine state really changed;
secrets never reach the trail; every state change is an event with an actor and a time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, text

from engine.db.database import Database, unit_of_work
from engine.db.models import AuditEvent
from engine.errors import BadRequest, NotAllowed, NotFound
from engine.services import admin, archive, audit, audit_bundle, instances, messages, tasks, timers, users
from tests.audit.diagrams import BIG, deploy_change
from tests.bpmn_snippets import HEAD, chain, script_task, user_task
from tests.conftest import ADMIN, ALICE, BOB, CAROL, DAVE, IVAN
from tests.integration.test_timers_messages import PING_PONG
from tests.support import deploy_xml, do, instance, open_tasks, task_for

ROUTED = (f'{HEAD}<bpmn:process id="routed" isExecutable="true"><bpmn:startEvent id="start"/>'
          '<bpmn:userTask id="review" camunda:candidateGroups="service_desk"/>'
          '<bpmn:exclusiveGateway id="gw" default="plain"/>'
          '<bpmn:userTask id="specialist" camunda:candidateGroups="resolver"/><bpmn:endEvent id="end"/>'
          '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>'
          '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw"/>'
          '<bpmn:sequenceFlow id="special" sourceRef="gw" targetRef="specialist"><bpmn:conditionExpression>'
          'escalate == True</bpmn:conditionExpression></bpmn:sequenceFlow>'
          '<bpmn:sequenceFlow id="plain" sourceRef="gw" targetRef="end"/>'
          '<bpmn:sequenceFlow id="f3" sourceRef="specialist" targetRef="end"/></bpmn:process></bpmn:definitions>')


def _events(db: Database, key: str, type_: str | None = None) -> list[dict]:
    with unit_of_work(db) as uow:
        inst = instances.find(uow, ADMIN, key)
        return [audit.event_view(e) for e in audit.instance_events(uow, inst.id) if type_ in (None, e.type)]


def test_data_edit_changes_what_the_engine_does_next(db: Database) -> None:
    deploy_xml(db, ROUTED)
    key = instances.start(db, IVAN, "routed", {"escalate": False, "note": "x"}).business_key
    admin.edit_data(db, ADMIN, key, {"escalate": True, "extra": 1}, "  customer is a VIP  ")
    assert instance(db, key)["data"]["escalate"] is True
    edited = _events(db, key, "admin.data_edited")[0]
    assert edited["actor"] == "admin" and edited["data"] == {
        "reason": "customer is a VIP",
        "changes": {"escalate": {"old": False, "new": True, "added": False},
                    "extra": {"old": None, "new": 1, "added": True}}}
    do(db, ALICE, key, "review")
    assert [t["element_id"] for t in open_tasks(db, key)] == ["specialist"]  # the engine read the new value
    with unit_of_work(db) as uow:
        assert audit.verify(uow).ok


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_mandatory(db: Database, reason: str | None) -> None:
    deploy_xml(db, ROUTED)
    key = instances.start(db, IVAN, "routed", {"escalate": False}).business_key
    with pytest.raises(BadRequest) as exc:
        admin.edit_data(db, ADMIN, key, {"escalate": True}, reason)  # type: ignore[arg-type]
    assert exc.value.details["fields"] == {"reason": "is required"}
    with pytest.raises(BadRequest):
        admin.reassign_task(db, ADMIN, task_for(db, key, "review")["id"], "bob", reason)  # type: ignore[arg-type]
    assert _events(db, key, "admin.data_edited") == []


def test_only_admins_and_only_sensible_edits(db: Database) -> None:
    deploy_xml(db, ROUTED)
    key = instances.start(db, IVAN, "routed", {"escalate": False}).business_key
    with pytest.raises(NotAllowed):
        admin.edit_data(db, CAROL, key, {"escalate": True}, "why not")
    with pytest.raises(BadRequest, match="business_key"):
        admin.edit_data(db, ADMIN, key, {"business_key": "INC-1"}, "rename")
    with pytest.raises(BadRequest, match="already"):
        admin.edit_data(db, ADMIN, key, {"escalate": False}, "no-op")
    with pytest.raises(BadRequest):
        admin.edit_data(db, ADMIN, key, {}, "nothing")
    do(db, ALICE, key, "review")
    with pytest.raises(BadRequest, match="completed"):
        admin.edit_data(db, ADMIN, key, {"escalate": True}, "too late")


def test_secret_fields_are_masked_in_an_edit(db: Database) -> None:
    deploy_change(db)
    key = instances.start(db, IVAN, "chg", {}).business_key
    do(db, ALICE, key, "register", {**BIG, "access_code": "old-code-111"})
    admin.edit_data(db, ADMIN, key, {"access_code": "new-code-222"}, "rotated")
    edited = _events(db, key, "admin.data_edited")[0]["data"]
    assert edited["changes"]["access_code"] == audit.SECRET_MASK  # a secret's key is masked wholesale
    with unit_of_work(db) as uow:
        stored = " ".join(r[0] for r in uow.session.execute(text("SELECT data_json FROM audit_event")))
    assert "old-code-111" not in stored and "new-code-222" not in stored


def test_reassign_a_task(db: Database) -> None:
    users.seed_demo_users(db)
    deploy_xml(db, ROUTED)
    key = instances.start(db, IVAN, "routed", {"escalate": False}).business_key
    task = task_for(db, key, "review")
    tasks.claim(db, ALICE, task["id"])
    with pytest.raises(NotAllowed):
        admin.reassign_task(db, CAROL, task["id"], "bob", "holiday")
    with pytest.raises(NotFound):
        admin.reassign_task(db, ADMIN, task["id"], "nobody", "holiday")
    moved = admin.reassign_task(db, ADMIN, task["id"], "bob", "alice is on holiday")
    assert moved["assignee"] == "bob"
    event = _events(db, key, "admin.task_reassigned")[0]
    assert event["actor"] == "admin" and event["element_id"] == "review"
    assert event["data"] == {"task_id": task["id"], "from": "alice", "to": "bob", "reason": "alice is on holiday",
                             "roles": ["service_desk"], "to_holds_role": False}
    tasks.complete(db, BOB, task["id"], {})  # the assignee may complete it
    assert instance(db, key)["status"] == "completed"


SECRET_FLOW = chain("sec", [user_task(0, fields=(
    '<camunda:formField id="pin" type="string"><camunda:properties><camunda:property id="secret" value="true"/>'
    '</camunda:properties></camunda:formField><camunda:formField id="name" type="string"/>')),
    '<bpmn:exclusiveGateway id="n1" default="f_other"/>', user_task(2)], extra=(
    '<bpmn:sequenceFlow id="f_pin" sourceRef="n1" targetRef="n2"><bpmn:conditionExpression>len(pin) &gt; 3'
    '</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:sequenceFlow id="f_other" sourceRef="n1" targetRef="end"/>'))


def test_secrets_never_reach_the_trail(db: Database) -> None:
    # chain() wires n1 -> n2 already; the gateway's extra flows read the secret in a condition
    deploy_xml(db, SECRET_FLOW.replace('<bpmn:sequenceFlow id="f2" sourceRef="n1" targetRef="n2"/>', ""))
    key = instances.start(db, IVAN, "sec", {"pin": "4711-secret"}).business_key  # start data, too
    do(db, ALICE, key, "n0", {"pin": "4711-secret", "name": "Ann"})
    completed = _events(db, key, "task.completed")[0]["data"]["form"]
    assert completed == {"pin": audit.SECRET_MASK, "name": "Ann"}
    gateway = _events(db, key, "gateway.taken")[0]["data"]
    assert gateway["flow"] == "f_pin" and gateway["inputs"]["pin"] == audit.SECRET_MASK
    with unit_of_work(db) as uow:
        stored = " ".join(r[0] for r in uow.session.execute(text("SELECT data_json FROM audit_event")))
        bundle = "\n".join(audit_bundle.export(uow))
    assert "4711-secret" not in stored and "4711-secret" not in bundle and "Ann" in stored


def test_every_state_change_is_an_event_with_actor_and_time(db: Database) -> None:
    users.seed_demo_users(db)
    deploy_change(db)
    deploy_xml(db, PING_PONG["helper"])
    deploy_xml(db, PING_PONG["caller"])
    deploy_xml(db, chain("broken", [script_task(0, "x = missing_name + 1")]))
    base = datetime.now(UTC)
    with time_machine.travel(base, tick=False):
        key = instances.start(db, IVAN, "chg", {}).business_key
        task = task_for(db, key, "register")
        tasks.claim(db, ALICE, task["id"])
        tasks.unclaim(db, ALICE, task["id"])
        do(db, ALICE, key, "register", BIG)
        admin.reassign_task(db, ADMIN, task_for(db, key, "approve_cab")["id"], "dave", "assigning the chair")
        admin.edit_data(db, ADMIN, key, {"estimated_hours": 30}, "re-estimated")
        do(db, DAVE, key, "approve_cab", {"approved": True}, claim=False)
    with time_machine.travel(base + timedelta(hours=5), tick=False):
        timers.fire_due(db)
        do(db, CAROL, key, "escalate")
        instances.cancel(db, CAROL, key, "superseded")
        caller = instances.start(db, IVAN, "caller", {}).business_key
        helper = next(i for i in _related(db, caller))
        do(db, BOB, helper, "help")
    broken = instances.start(db, IVAN, "broken", {}).business_key
    # (outside the frozen clock: a retry that fails the same way again leaves a byte-identical row, which
    # stepping._write_instance takes for a lost update)
    instances.retry(db, ADMIN, broken, "fixed the data")
    with time_machine.travel(base + timedelta(days=2), tick=False):
        archive.archive(db, ADMIN, base + timedelta(days=1))
    messages.retry_unrouted(db)
    with unit_of_work(db) as uow:
        rows = [audit.event_view(e) for e in uow.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()]
        assert audit.verify(uow).ok
    assert all(r["actor"] and r["at"] for r in rows)
    seen = {r["type"] for r in rows}
    assert {"process.deployed", "decision.deployed", "instance.started", "element.completed", "task.ready",
            "task.claimed", "task.unclaimed", "task.completed", "task.withdrawn", "gateway.taken",
            "decision.evaluated", "timer.fired", "message.sent", "message.delivered", "instance.completed",
            "instance.errored", "instance.cancelled", "instance.retried", "admin.task_reassigned",
            "admin.data_edited", "instance.archived"} <= seen, seen
    ready = next(r for r in rows if r["type"] == "task.ready" and r["element_id"] == "implement")
    assert ready["data"]["due_at"]  # the SLA due time is part of the record


def _related(db: Database, key: str) -> list[str]:
    with unit_of_work(db) as uow:
        return [r["business_key"] for r in instances.related(uow, instances.find(uow, ADMIN, key))]


def test_data_json_of_events_is_canonical(db: Database) -> None:
    deploy_xml(db, ROUTED)
    instances.start(db, IVAN, "routed", {"b": 1, "a": 2})
    with unit_of_work(db) as uow:
        for (data_json,) in uow.session.execute(text("SELECT data_json FROM audit_event")):
            assert data_json == audit.canonical(json.loads(data_json))
