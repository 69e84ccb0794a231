"""The human-task projection of a step: open tasks as rows (with their candidate roles), kept equal to the
engine's ready manual tasks. SQLAlchemy Core, one statement per kind of change: this runs on every step."""

from __future__ import annotations

import ast
import functools
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from engine.db.database import UnitOfWork
from engine.db.driver import Prepared
from engine.db.models import HumanTask, TaskCandidate, table_of
from engine.db.rows import InstanceRow
from engine.services.audit import NewEvent, at_text
from engine.services.specs import LoadedVersion
from engine.spiff import juel
from engine.spiff.runtime import json_safe
from engine.spiff.sandbox import timer_zone

TIMER_KINDS = ("TimerEventDefinition", "DurationTimerEventDefinition", "TimeDateEventDefinition",
               "CycleTimerEventDefinition")
TASKS = table_of(HumanTask)
CANDIDATES = table_of(TaskCandidate)
# Run on the driver's cursor (engine/db/driver.py): these run on every step.
OPEN = Prepared(select(TASKS).where(TASKS.c.instance_id == bindparam("instance")))
_DROP = Prepared(delete(TASKS).where(TASKS.c.id == bindparam("task")))
_RESCHEDULE = Prepared(update(TASKS).where(TASKS.c.id == bindparam("task"))
                       .values(due_at=bindparam("due"), priority=bindparam("prio")))
_ADD_TASKS = Prepared(insert(TASKS).values({c.key: bindparam(c.key) for c in TASKS.c}))
_ADD_CANDIDATES = Prepared(insert(CANDIDATES).values({c.key: bindparam(c.key) for c in CANDIDATES.c}))


@dataclass
class Synced:
    created: list[HumanTask] = field(default_factory=list)  # new this step (transient objects, for notifications)
    open: list[Any] = field(default_factory=list)  # every open task after the step, oldest first


def parse_due(value: Any) -> datetime | None:
    """A waiting timer's due time; one without an offset is in the configured timer zone (never stored naive)."""
    try:
        due = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return due if due.tzinfo is not None else due.replace(tzinfo=timer_zone())


def sync(uow: UnitOfWork, inst: InstanceRow, ready: list[Any], lv: LoadedVersion, waiting: list[Any],
         data: dict[str, Any], actor: str, trail: list[NewEvent], now: datetime,
         priority_field: str | None, new: bool = False, open_before: dict[str, OpenTask] | None = None) -> Synced:
    """Reads the instance's open tasks once, then deletes the gone (their candidates go by cascade), updates
    only rows whose due time or priority moved, and inserts the new ones: each one statement at most.
    new: the instance was inserted by this step, so it has no rows to read yet; open_before: the open tasks as
    the caller read them under the instance's lock (not read again)."""
    existing = {} if new else open_tasks(uow, inst.id) if open_before is None else open_before
    by_id = {t.task_id: t for t in ready}
    gone = [tid for tid in existing if tid not in by_id]
    if gone:
        _DROP.execute_many(uow, [{"task": tid} for tid in gone])
        completed_ids = {e.data.get("task_id") for e in trail if e.type == "task.completed"}
        for tid in gone:
            if tid not in completed_ids:
                old = existing[tid]
                trail.append(NewEvent("task.withdrawn", actor, inst.id, old.element_id, old.name, {"task_id": tid}))
    due_by_element: dict[str, datetime] = {}
    for w in waiting:
        el = lv.meta.elements.get(w.element_id)
        if el is not None and el.attached_to and w.kind in TIMER_KINDS:
            due = parse_due(w.value)
            if due is not None:
                prev = due_by_element.get(el.attached_to)
                due_by_element[el.attached_to] = due if prev is None else min(prev, due)
    priority = _priority(data, priority_field)
    result = Synced()
    new_rows: list[dict[str, Any]] = []
    candidates: list[dict[str, Any]] = []
    for tid, rt in by_id.items():
        el = lv.meta.elements.get(rt.element_id)
        if tid in existing:
            row = existing[tid]
            # A non-interrupting SLA timer that fired leaves the task open and late: it keeps its due time.
            due = due_by_element.get(rt.element_id, row.due_at)
            if due != row.due_at or priority != row.priority:
                _RESCHEDULE.execute(uow, {"task": tid, "due": due, "prio": priority})
                row.due_at, row.priority = due, priority
            result.open.append(row)
            continue
        roles = list(el.roles) if el else []
        values = {
            "id": tid, "instance_id": inst.id, "process_key": inst.process_key,
            "process_version_id": inst.process_version_id, "business_key": inst.business_key,
            "element_id": rt.element_id, "name": rt.name, "lane": el.lane if el else None,
            "roles_json": json.dumps(roles), "assignee": _assignee(el.assignee if el else None, data),
            "approval": bool(el and el.is_approval), "priority": priority, "created_at": now,
            "due_at": due_by_element.get(rt.element_id),
        }
        new_rows.append(values)
        candidates += [{"task_id": tid, "role": role, "created_at": now} for role in roles]
        flow = flow_between(lv, rt.previous, rt.element_id)
        note_gateway(lv, rt.previous, flow, data, actor, inst.id, trail)
        due = values["due_at"]
        trail.append(NewEvent("task.ready", actor, inst.id, rt.element_id, rt.name,
                              {"task_id": tid, "roles": roles, "flow": flow,
                               "due_at": at_text(due) if due is not None else None}))
        task = HumanTask(**values)
        result.created.append(task)
        result.open.append(task)
    _ADD_TASKS.execute_many(uow, new_rows)
    _ADD_CANDIDATES.execute_many(uow, candidates)
    result.open.sort(key=lambda t: t.created_at)
    return result


def open_tasks(uow: UnitOfWork, instance_id: int) -> dict[str, OpenTask]:
    """The instance's open tasks by id, as plain rows."""
    found = (OpenTask(**values) for values in OPEN.mappings(uow, {"instance": instance_id}))
    return {task.id: task for task in found}


@dataclass(slots=True)
class OpenTask:
    """An open task as the step read it: the columns of human_task (a TaskRow, what policy and task_summary read)."""

    id: str
    instance_id: int
    process_key: str
    process_version_id: int
    business_key: str
    element_id: str
    name: str
    lane: str | None
    roles_json: str
    assignee: str | None
    approval: bool
    priority: str | None
    created_at: datetime
    due_at: datetime | None


def flow_between(lv: LoadedVersion, source: str | None, target: str) -> str | None:
    return None if source is None else lv.flow_between.get((source, target))


def note_gateway(lv: LoadedVersion, gateway: str | None, flow: str | None, data: dict[str, Any],
                 actor: str, instance_id: int | None, trail: list[NewEvent]) -> None:
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


@functools.lru_cache(maxsize=1024)
def _names_in(expression: str) -> tuple[str, ...]:
    if juel.is_juel(expression):
        return juel.variables(expression)
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return ()
    return tuple(sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in ("True", "False")}))


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
