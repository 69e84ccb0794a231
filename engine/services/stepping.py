"""After every engine step: one place that writes the instance, its task projection, subscriptions, audit."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from engine import clock
from engine.db.database import UnitOfWork
from engine.db.driver import Prepared
from engine.db.models import HumanTask, Message, MessageSubscription, ProcessInstance, table_of
from engine.db.rows import InstanceRow
from engine.errors import Conflict
from engine.services import audit, declared, external_sync, notify, parties, record_index, specs, step_tasks
from engine.services.audit import NewEvent
from engine.services.decisions import make_decider
from engine.services.step_tasks import TIMER_KINDS, flow_between, note_gateway, parse_due
from engine.spiff.runtime import Runner, StepLog, json_default

InstanceT = TypeVar("InstanceT", bound=InstanceRow)  # the instance type a caller passed in and gets back


@dataclass
class StepOutcome(Generic[InstanceT]):
    """What a step wrote: callers build their answers from it instead of reading it back."""

    instance: InstanceT
    new_tasks: list[HumanTask] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)
    open_tasks: list[Any] = field(default_factory=list)  # every open task after the step (rows, oldest first)


def restore(uow: UnitOfWork, inst: InstanceRow) -> tuple[Runner, specs.LoadedVersion]:
    lv = specs.loaded(uow, inst.process_version_id)
    runner = Runner.restore(json.loads(inst.state_json), lv.spec, lv.subprocess_specs, make_decider(uow))
    return runner, lv


# Built once: building an ORM statement costs more than running it (they run on every step).
_LOCK = select(ProcessInstance).where(ProcessInstance.id == bindparam("id")).execution_options(populate_existing=True)
_LOCK_PG = _LOCK.with_for_update()
_TASK_INSTANCE = select(HumanTask.instance_id).where(HumanTask.id == bindparam("task")).scalar_subquery()
_INSTANCES = table_of(ProcessInstance)
# A completion reads its instance as a plain row on the driver: loading the ORM object cost more than the rest
# of the read (bench B4, PostgreSQL).
_LOCK_OF_TASK = Prepared(select(_INSTANCES).where(_INSTANCES.c.id == _TASK_INSTANCE))
_LOCK_OF_TASK_PG = Prepared(select(_INSTANCES).where(_INSTANCES.c.id == _TASK_INSTANCE).with_for_update(of=_INSTANCES))


@dataclass(slots=True)
class InstanceRecord:
    """An instance as a step holds it (an InstanceRow): read under its lock, or new (id 0) until the step inserts
    it. The step's INSERT or UPDATE keeps it equal to the row."""

    id: int
    process_key: str
    process_version_id: int
    version: int
    business_key: str
    status: str
    state_json: str
    data_json: str
    error_json: str | None
    revision: int
    next_wakeup_at: datetime | None
    origin_key: str | None
    case_key: str | None
    started_by: str
    started_at: datetime
    ended_at: datetime | None


def lock_instance(uow: UnitOfWork, instance_id: int) -> ProcessInstance:
    """Row lock on PostgreSQL (SQLite's BEGIN IMMEDIATE already serializes writers)."""
    inst = uow.session.execute(_LOCK_PG if uow.is_postgres else _LOCK, {"id": instance_id}).scalar_one_or_none()
    if inst is None:
        raise LookupError(instance_id)
    return inst


def lock_instance_of_task(uow: UnitOfWork, task_id: str) -> InstanceRecord | None:
    """The instance an open task belongs to, locked as lock_instance does, as a plain row; None when the task is
    not open. Read the task after this: what it says then (claimed, gone) is what the step may rely on."""
    found = (_LOCK_OF_TASK_PG if uow.is_postgres else _LOCK_OF_TASK).mappings(uow, {"task": task_id})
    return InstanceRecord(**found[0]) if found else None


def save_step(uow: UnitOfWork, inst: InstanceT, runner: Runner, lv: specs.LoadedVersion, log: StepLog,
              actor: str, events: list[NewEvent], seen_revision: int | None, *, final_status: str | None = None,
              not_before: datetime | None = None, open_before: dict[str, step_tasks.OpenTask] | None = None
              ) -> StepOutcome[InstanceT]:
    """Persists the step; `events` are the caller's own audit events, written first.

    A new instance (an InstanceRecord with id 0) is inserted here with its first state. The step costs a fixed
    number of statements: the instance's INSERT or one versioned UPDATE, one read of its open tasks, one
    statement each for removed tasks, new tasks and their candidates, parties, subscriptions and the audit
    rows - each only when there is something to write. final_status ends the instance (cancel); not_before
    keeps a wake-up from being earlier than that; open_before: the instance's open tasks when the caller read
    them under the instance's lock (then they are not read again)."""
    meta, now = lv.meta, clock.now()
    trail = list(events)
    by_task = {e.data.get("task_id"): e for e in trail if e.type == "task.completed"}
    data = runner.data()
    for done in log.completed:
        el = meta.elements.get(done.element_id)
        flow = flow_between(lv, done.previous, done.element_id)
        note_gateway(lv, done.previous, flow, data, actor, inst.id, trail)
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
    dues = [parse_due(w.value) for w in waiting if w.kind in TIMER_KINDS]
    wakeups = [due for due in dues if due is not None]
    fields: dict[str, Any] = {"next_wakeup_at": min(wakeups) if wakeups else None}
    if not_before is not None and fields["next_wakeup_at"] is not None and fields["next_wakeup_at"] <= now:
        fields["next_wakeup_at"] = not_before
    ready = runner.ready_tasks()
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
        fields.update(status="running" if ready else "waiting", error_json=None)

    # Each document is encoded once: the stored text is what the rest of the step compares and reads.
    data_json = json.dumps(data, default=json_default)
    fields.update(state_json=json.dumps(runner.state()), data_json=data_json)
    before_json = inst.data_json or "{}"
    new = not inst.id  # ids start at 1: 0 is a record not inserted yet
    if new:
        assert isinstance(inst, InstanceRecord), "a new instance is an InstanceRecord not yet inserted"
        _insert_instance(uow, inst, fields, trail)
    else:
        _update_instance(uow, inst, fields, seen_revision)

    decl = declared.of_version(uow, inst.process_version_id)
    synced = step_tasks.sync(uow, inst, ready, lv, waiting, data, actor, trail, now, decl.priority_field, new,
                             open_before)
    if lv.catches_messages:
        _sync_subscriptions(uow, inst, waiting)
    external_sync.sync(uow, inst, runner, lv, actor, trail, now)
    message_ids = _send_messages(uow, inst, log, actor, now, trail)
    before = _record(before_json)  # what the rows kept from the data (parties, index) were last written from
    parties.sync(uow, inst, decl, before, data)
    record_index.sync(uow, inst, decl, data, before)
    notify.after_step(uow, inst, synced.created, trail, meta.elements, actor)  # in a savepoint: never fails
    # Data that came from elsewhere (start data, a message's payload) may hold another process's secret fields.
    foreign = any(e.type in ("instance.started", "message.delivered") for e in trail)
    audit.append(uow, trail, secrets=None if foreign else lv.secret_fields)
    return StepOutcome(inst, synced.created, message_ids, synced.open)


_INSERT = Prepared(insert(_INSTANCES).values({c.key: bindparam(c.key) for c in _INSTANCES.c if c.key != "id"})
                   .returning(_INSTANCES.c.id))


def _insert_instance(uow: UnitOfWork, inst: InstanceRecord, fields: dict[str, Any], trail: list[NewEvent]) -> None:
    """A new instance is written once, with its first state (one INSERT, no ORM object); its id then goes into
    the step's events."""
    for name, value in fields.items():
        setattr(inst, name, value)
    inst.id = _INSERT.scalar(uow, {c.key: getattr(inst, c.key) for c in _INSTANCES.c if c.key != "id"})
    for ev in trail:
        if not ev.instance_id:
            ev.instance_id = inst.id


# Scheduling only: a changed wake-up time alone (a timer looked at too early) is not a new revision.
_SCHEDULE = frozenset({"next_wakeup_at"})
_updates: dict[tuple[str, ...], Prepared] = {}


def _update_statement(columns: tuple[str, ...]) -> Prepared:
    """The versioned UPDATE of these columns, built once per set of columns (a handful occur)."""
    stmt = _updates.get(columns)
    if stmt is None:
        stmt = _updates[columns] = Prepared(
            update(_INSTANCES).where(_INSTANCES.c.id == bindparam("_id"), _INSTANCES.c.revision == bindparam("_seen"))
            .values({name: bindparam(f"v_{name}") for name in columns}))
    return stmt


def _update_instance(uow: UnitOfWork, inst: InstanceRow, fields: dict[str, Any],
                     seen_revision: int | None) -> None:
    """One UPDATE of the columns that changed, guarded by the revision the step was computed from."""
    changed = {name: value for name, value in fields.items() if getattr(inst, name) != value}
    if not changed:
        return  # a step that changed nothing (a retry failing the same way) writes no new revision
    seen = inst.revision if seen_revision is None else seen_revision
    values = dict(changed)
    bump = not changed.keys() <= _SCHEDULE
    if bump:
        values["revision"] = seen + 1
    params = {f"v_{name}": value for name, value in values.items()}
    matched = _update_statement(tuple(sorted(values))).execute(uow, {"_id": inst.id, "_seen": seen, **params})
    if matched != 1:
        raise Conflict(f"instance {inst.business_key} was changed by someone else; reload and try again",
                       instance=inst.business_key)
    orm = isinstance(inst, ProcessInstance)
    for name, value in values.items():  # the object now matches the row without another flush
        if orm:
            set_committed_value(inst, name, value)
        else:
            setattr(inst, name, value)


def _send_messages(uow: UnitOfWork, inst: InstanceRow, log: StepLog, actor: str, now: datetime,
                   trail: list[NewEvent]) -> list[int]:
    if not log.thrown:
        return []
    table = table_of(Message)
    rows = [{"name": thrown.name, "correlation_key": None, "payload_json": json.dumps(thrown.payload),
             "sender_instance_id": inst.id, "sent_by": actor, "status": "pending", "delivered_to_json": "[]",
             "attempts": 0, "created_at": now} for thrown in log.thrown]
    ids = [uow.session.execute(insert(table).values(row).returning(table.c.id)).scalar_one() for row in rows]
    for thrown, message_id in zip(log.thrown, ids, strict=True):
        trail.append(NewEvent("message.sent", actor, inst.id, data={"name": thrown.name, "message_id": message_id}))
    return ids


def _record(text: str) -> dict[str, Any] | None:
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _name(lv: specs.LoadedVersion, element_id: str | None) -> str | None:
    el = lv.meta.elements.get(element_id or "")
    return el.name if el else None


def _sync_subscriptions(uow: UnitOfWork, inst: InstanceRow, waiting: list[Any]) -> None:
    table = table_of(MessageSubscription)
    uow.session.execute(delete(table).where(table.c.instance_id == inst.id))
    rows = [{"instance_id": inst.id, "message_name": w.name, "correlation_key": inst.business_key,
             "element_id": w.element_id} for w in waiting if w.kind == "MessageEventDefinition"]
    if rows:
        uow.session.execute(insert(table), rows)
