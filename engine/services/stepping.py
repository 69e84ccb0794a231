"""After every engine step: one place that writes the instance, its task projection, subscriptions, audit."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm.exc import StaleDataError

from engine import clock
from engine.db.database import UnitOfWork
from engine.db.models import HumanTask, Message, MessageSubscription, ProcessInstance, TaskCandidate
from engine.errors import Conflict
from engine.services import audit, declared, notify, parties, specs
from engine.services.audit import NewEvent
from engine.services.decisions import make_decider
from engine.spiff.runtime import Runner, StepLog, json_safe

TIMER_KINDS = ("TimerEventDefinition", "DurationTimerEventDefinition", "TimeDateEventDefinition",
               "CycleTimerEventDefinition")


@dataclass
class StepOutcome:
    instance: ProcessInstance
    new_tasks: list[HumanTask] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)


def restore(uow: UnitOfWork, inst: ProcessInstance) -> tuple[Runner, specs.LoadedVersion]:
    lv = specs.loaded(uow, inst.process_version_id)
    runner = Runner.restore(json.loads(inst.state_json), lv.spec, lv.subprocess_specs, make_decider(uow))
    return runner, lv


def lock_instance(uow: UnitOfWork, instance_id: int) -> ProcessInstance:
    """Row lock on PostgreSQL (SQLite's BEGIN IMMEDIATE already serializes writers)."""
    stmt = select(ProcessInstance).where(ProcessInstance.id == instance_id).execution_options(populate_existing=True)
    if uow.is_postgres:
        stmt = stmt.with_for_update()
    inst = uow.session.execute(stmt).scalar_one_or_none()
    if inst is None:
        raise LookupError(instance_id)
    return inst


def _parse_due(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def save_step(uow: UnitOfWork, inst: ProcessInstance, runner: Runner, lv: specs.LoadedVersion, log: StepLog,
              actor: str, events: list[NewEvent], seen_revision: int | None, *, final_status: str | None = None,
              not_before: datetime | None = None) -> StepOutcome:
    """Persists the step; `events` are the caller's own audit events, written first.

    final_status ends the instance (cancel); not_before keeps a wake-up from being earlier than that."""
    meta, now = lv.meta, clock.now()
    trail = list(events)
    by_task = {e.data.get("task_id"): e for e in trail if e.type == "task.completed"}
    data_now = runner.data()
    for done in log.completed:
        el = meta.elements.get(done.element_id)
        flow = _flow_between(lv, done.previous, done.element_id)
        _note_gateway(lv, done.previous, flow, data_now, actor, inst.id, trail)
        kind = el.kind if el else "unknown"
        if el is not None and el.timer is not None and kind != "startEvent":
            trail.append(NewEvent("timer.fired", actor, inst.id, done.element_id, el.name,
                                  {"timer": el.timer, "task_id": done.task_id, "interrupting": el.interrupting}))
        if done.task_id in by_task:
            by_task[done.task_id].data["flow"] = flow  # the caller's task.completed carries the form values
            continue
        payload: dict[str, Any] = {"kind": kind, "flow": flow, "task_id": done.task_id}
        if kind == "parallelGateway":
            # A parallel join fires only when every incoming flow has arrived; the engine merges the branches'
            # join tasks into one, so name them all here.
            incoming = sorted(f.id for f in meta.flows.values() if f.target == done.element_id)
            if len(incoming) > 1:
                payload["flows"] = incoming
        trail.append(NewEvent("element.completed", actor, inst.id, done.element_id, el.name if el else None,
                              payload))
    for ev in log.decisions:
        trail.append(NewEvent("decision.evaluated", actor, inst.id, ev.get("element_id"),
                              _name(lv, ev.get("element_id")), ev))

    waiting = runner.waiting()
    wakeups = [_parse_due(w.value) for w in waiting if w.kind in TIMER_KINDS]
    wakeups = [w for w in wakeups if w is not None]
    fields: dict[str, Any] = {"next_wakeup_at": min(wakeups) if wakeups else None}
    if not_before is not None and fields["next_wakeup_at"] is not None and fields["next_wakeup_at"] <= now:
        fields["next_wakeup_at"] = not_before

    data = json_safe(runner.data())
    decl = declared.of_version(uow, inst.process_version_id)
    new_tasks = _sync_tasks(uow, inst, runner, lv, waiting, data, actor, trail, now, decl.priority_field)
    if _catches_messages(lv):
        _sync_subscriptions(uow, inst, waiting)

    if final_status is not None:
        fields.update(status=final_status, ended_at=now, next_wakeup_at=None, error_json=None)
    elif log.error is not None:
        fields.update(status="error", error_json=json.dumps(log.error))
        trail.append(NewEvent("instance.errored", actor, inst.id, log.error.get("element_id"),
                              _name(lv, log.error.get("element_id")), log.error))
    elif runner.is_completed():
        fields.update(status="completed", ended_at=now, error_json=None, next_wakeup_at=None)
        trail.append(NewEvent("instance.completed", actor, inst.id, data={"business_key": inst.business_key}))
    else:
        fields.update(status="running" if runner.ready_tasks() else "waiting", error_json=None)

    message_ids = []
    for thrown in log.thrown:
        msg = Message(name=thrown.name, correlation_key=None, payload_json=json.dumps(thrown.payload),
                      sender_instance_id=inst.id, sent_by=actor, status="pending", created_at=now)
        uow.session.add(msg)
        uow.session.flush()
        message_ids.append(msg.id)
        trail.append(NewEvent("message.sent", actor, inst.id, data={"name": thrown.name, "message_id": msg.id}))

    # Every change to the instance row is made here, at once, so each step is exactly one versioned UPDATE.
    before_json = inst.data_json
    fields.update(state_json=json.dumps(runner.state()), data_json=json.dumps(data))
    for name, value in fields.items():
        setattr(inst, name, value)
    _write_instance(uow, inst, seen_revision)
    parties.sync(uow, inst, decl, before_json, data)
    notify.after_step(uow, inst, new_tasks, trail, meta.elements, actor)  # in a savepoint: never fails the step
    # Data that came from elsewhere (start data, a message's payload) may hold another process's secret fields.
    foreign = any(e.type in ("instance.started", "message.delivered") for e in trail)
    audit.append(uow, trail, secrets=None if foreign else _secret_fields(lv))
    return StepOutcome(inst, new_tasks, message_ids)


def _write_instance(uow: UnitOfWork, inst: ProcessInstance, seen_revision: int | None) -> None:
    key = inst.business_key  # read before the flush: a failed flush expires the object
    if seen_revision is not None and not uow.session.is_modified(inst):
        return  # a step that changed nothing (a retry failing the same way) writes no new revision
    try:
        uow.session.flush()
    except StaleDataError:
        raise Conflict(f"instance {key} was changed by someone else; reload and try again", instance=key) from None
    if seen_revision is not None and inst.revision != seen_revision + 1:
        raise Conflict(f"instance {inst.business_key} was changed by someone else", instance=inst.business_key)


def _flow_between(lv: specs.LoadedVersion, source: str | None, target: str) -> str | None:
    if source is None:
        return None
    for flow in lv.meta.flows.values():
        if flow.source == source and flow.target == target:
            return flow.id
    return None


def _name(lv: specs.LoadedVersion, element_id: str | None) -> str | None:
    el = lv.meta.elements.get(element_id or "")
    return el.name if el else None


def _sync_tasks(uow: UnitOfWork, inst: ProcessInstance, runner: Runner, lv: specs.LoadedVersion,
                waiting: list[Any], data: dict[str, Any], actor: str, trail: list[NewEvent],
                now: datetime, priority_field: str | None) -> list[HumanTask]:
    session = uow.session
    existing = {t.id: t for t in session.execute(select(HumanTask).where(HumanTask.instance_id == inst.id)).scalars()}
    ready = {t.task_id: t for t in runner.ready_tasks()}
    gone = [tid for tid in existing if tid not in ready]
    if gone:
        session.execute(delete(TaskCandidate).where(TaskCandidate.task_id.in_(gone)))
        session.execute(delete(HumanTask).where(HumanTask.id.in_(gone)))
        completed_ids = {e.data.get("task_id") for e in trail if e.type == "task.completed"}
        for tid in gone:
            if tid not in completed_ids:
                old = existing[tid]
                trail.append(NewEvent("task.withdrawn", actor, inst.id, old.element_id, old.name, {"task_id": tid}))
    due_by_element = {}
    for w in waiting:
        el = lv.meta.elements.get(w.element_id)
        if el is not None and el.attached_to and w.kind in TIMER_KINDS:
            due = _parse_due(w.value)
            if due is not None:
                prev = due_by_element.get(el.attached_to)
                due_by_element[el.attached_to] = due if prev is None else min(prev, due)
    created = []
    for tid, rt in ready.items():
        el = lv.meta.elements.get(rt.element_id)
        if tid in existing:
            row = existing[tid]
            # A non-interrupting SLA timer that fired leaves the task open and late: it keeps its due time.
            row.due_at = due_by_element.get(rt.element_id, row.due_at)
            row.priority = _priority(data, priority_field)
            continue
        roles = list(el.roles) if el else []
        row = HumanTask(
            id=tid, instance_id=inst.id, process_key=inst.process_key, business_key=inst.business_key,
            element_id=rt.element_id, name=rt.name, lane=el.lane if el else None, roles_json=json.dumps(roles),
            assignee=_assignee(el.assignee if el else None, data), approval=bool(el and el.is_approval),
            priority=_priority(data, priority_field), created_at=now, due_at=due_by_element.get(rt.element_id),
        )
        session.add(row)
        session.flush()
        for role in roles:
            session.add(TaskCandidate(task_id=tid, role=role, created_at=now))
        flow = _flow_between(lv, rt.previous, rt.element_id)
        _note_gateway(lv, rt.previous, flow, data, actor, inst.id, trail)
        trail.append(NewEvent("task.ready", actor, inst.id, rt.element_id, rt.name,
                              {"task_id": tid, "roles": roles, "flow": flow}))
        created.append(row)
    return created


def _note_gateway(lv: specs.LoadedVersion, gateway: str | None, flow: str | None, data: dict[str, Any],
                  actor: str, instance_id: int, trail: list[NewEvent]) -> None:
    """Records which flow left a gateway and the values its condition read, for the auditor."""
    el = lv.meta.elements.get(gateway or "")
    if el is None or not el.kind.endswith("Gateway") or flow is None:
        return
    fm = lv.meta.flows.get(flow)
    condition = fm.condition if fm else None
    inputs = {name: data.get(name) for name in _names_in(condition)} if condition else {}
    trail.append(NewEvent("gateway.taken", actor, instance_id, el.id, el.name,
                          {"flow": flow, "condition": condition, "inputs": json_safe(inputs),
                           "default": condition is None}))


def _names_in(expression: str) -> list[str]:
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return []
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in ("True", "False")})


def _priority(data: dict[str, Any], field_name: str | None) -> str | None:
    value = data.get(field_name) if field_name else None
    return value if isinstance(value, str) and len(value) <= 4 else None


def _assignee(expr: str | None, data: dict[str, Any]) -> str | None:
    """camunda:assignee is a user name or ${variable} naming one in the data."""
    if not expr:
        return None
    if expr.startswith("${") and expr.endswith("}"):
        value = data.get(expr[2:-1].strip())
        return value if isinstance(value, str) else None
    return expr


def _catches_messages(lv: specs.LoadedVersion) -> bool:
    """A version without message catch events never has subscriptions: skip the DELETE on every step."""
    return any(el.message and el.kind not in ("endEvent", "intermediateThrowEvent", "sendTask")
               for el in lv.meta.elements.values()) or any(
        el.kind == "eventBasedGateway" for el in lv.meta.elements.values())


def _secret_fields(lv: specs.LoadedVersion) -> frozenset[str]:
    """A step's events speak of its own instance: the secret fields of its version are the ones to mask."""
    return frozenset(f.id for el in lv.meta.elements.values() for f in el.form if f.secret)


def _sync_subscriptions(uow: UnitOfWork, inst: ProcessInstance, waiting: list[Any]) -> None:
    uow.session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == inst.id))
    for w in waiting:
        if w.kind == "MessageEventDefinition":
            uow.session.add(MessageSubscription(instance_id=inst.id, message_name=w.name,
                                                correlation_key=inst.business_key, element_id=w.element_id))
