"""Read models for the browser UI: the inbox, the data a task or record page shows, instance and audit-trail
search with export and the process catalogue. The dashboard's measures are in engine/services/dashboard.py.

Plain functions over a UnitOfWork (SQLAlchemy 2.0 queries), permissions decided from the Actor, no Flask."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import AuditEvent, DecisionVersion, HumanTask, ProcessInstance, ProcessVersion
from engine.errors import BadRequest, NotAllowed
from engine.services import audit, decisions, declared, deploy, instances, policy, tasks
from engine.services.actors import Actor

OPEN_STATUSES = ("running", "waiting", "error")
STATUSES = ("running", "waiting", "completed", "error", "cancelled")
PRIORITIES = ("P1", "P2", "P3", "P4")
SOON = timedelta(hours=1)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


# ---------------------------------------------------------------------------------------------- the inbox

def sla_state(due_at: datetime | None, created_at: datetime, now: datetime) -> str:
    """`overdue` past due; `due-soon` within the last quarter of its window or the last hour; `on-track`; `none`."""
    due_at, created_at = _aware(due_at), _aware(created_at) or now
    if due_at is None:
        return "none"
    if due_at <= now:
        return "overdue"
    left = due_at - now
    if left <= SOON or left <= (due_at - created_at) / 4:
        return "due-soon"
    return "on-track"


def inbox_tabs(actor: Actor) -> list[str]:
    return policy.tabs(actor)


@dataclass
class Inbox:
    tab: str
    tabs: list[tuple[str, int]]
    rows: list[dict[str, Any]]
    q: str = ""
    process: str = ""


def inbox(uow: UnitOfWork, actor: Actor, tab: str = policy.DEFAULT_TAB, q: str | None = None,
          process: str | None = None, limit: int = 100) -> Inbox:
    """The same tasks in the same order as GET /tasks (tasks.inbox_query); each row with its SLA state."""
    allowed = inbox_tabs(actor)
    if tab not in allowed:
        if tab in policy.TABS:
            raise NotAllowed("only managers, auditors and the service desk see all tasks")
        raise BadRequest(f"tab must be one of {', '.join(allowed)}")
    now = clock.now()
    counts = []
    for name in allowed:
        stmt = select(func.count()).select_from(HumanTask).where(policy.task_scope(uow, actor, name))
        counts.append((name, uow.session.execute(stmt).scalar_one()))
    found = tasks.list_tasks(uow, actor, tab, process, limit, q)
    records = {i: (data_json, version_id) for i, data_json, version_id in uow.session.execute(
        select(ProcessInstance.id, ProcessInstance.data_json, ProcessInstance.process_version_id)
        .where(ProcessInstance.id.in_({t.instance_id for t in found})))}
    claimable = set(uow.session.execute(select(HumanTask.id).where(
        HumanTask.id.in_([t.id for t in found]), policy.offered(uow, actor))).scalars())
    rows = []
    for task in found:
        data_json, version_id = records[task.instance_id]
        decl = declared.of_version(uow, version_id)
        rows.append({**tasks.task_summary(task), "summary": decl.summary(json.loads(data_json)),
                     "sla": sla_state(task.due_at, task.created_at, now), "due": _aware(task.due_at),
                     "created": _aware(task.created_at),
                     "may_claim": policy.may_claim(actor, task, task.id in claimable)})
    return Inbox(tab, counts, rows, q or "", process or "")


# ----------------------------------------------------------------------------------- task and record pages

def _timeline(events: list[AuditEvent]) -> list[dict[str, Any]]:
    return [{**audit.event_view(ev), "when": _aware(ev.at)} for ev in events]


def task_page(uow: UnitOfWork, actor: Actor, task_id: str) -> dict[str, Any]:
    """The task with its form, what the actor may do with it (policy.task_actions: exactly what claim,
    unclaim and complete will let through), and the record's history when the actor may see the record."""
    task = tasks.get(uow, actor, task_id)
    row = uow.session.get(HumanTask, task_id)
    assert row is not None
    record, events = None, []
    if policy.may_see_record(uow, actor, task["instance_id"]):
        inst = instances.find(uow, actor, task["instance_id"])
        record = instances.view(uow, inst, with_tasks=False)
        events = _timeline(audit.instance_events(uow, inst.id))
    return {"task": task, "record": record, "events": events, **policy.task_actions(uow, actor, row),
            "due": _aware(datetime.fromisoformat(task["due_at"])) if task["due_at"] else None,
            "sla": sla_state(datetime.fromisoformat(task["due_at"]) if task["due_at"] else None,
                             datetime.fromisoformat(task["created_at"]), clock.now())}


def record_page(uow: UnitOfWork, actor: Actor, ref: str) -> dict[str, Any]:
    """An instance as a record: data, open tasks (with what the actor may do), related records, history."""
    inst = instances.find(uow, actor, ref)
    view = instances.view(uow, inst)
    rows = {t.id: t for t in instances.tasks_of(uow, inst)}
    for t in view["tasks"]:
        acts = policy.task_actions(uow, actor, rows[t["id"]])
        t["mine"] = t["assignee"] == actor.username
        t["for_me"] = acts["may_work"] or acts["may_claim"]
        t["sla"] = sla_state(datetime.fromisoformat(t["due_at"]) if t["due_at"] else None,
                             datetime.fromisoformat(t["created_at"]), clock.now())
    return {"record": view, "related": instances.related(uow, inst),
            "events": _timeline(audit.instance_events(uow, inst.id)),
            "may_cancel": policy.may_cancel(actor, inst.status)}


def process_keys(uow: UnitOfWork) -> list[str]:
    return sorted(uow.session.execute(select(ProcessVersion.key).distinct()).scalars())


# ------------------------------------------------------------------------------------------ instance search

@dataclass
class InstanceFilter:
    q: str = ""
    process: str = ""
    status: str = ""
    start: date | None = None
    end: date | None = None
    started_by: str = ""


def _day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def search_instances(uow: UnitOfWork, actor: Actor, f: InstanceFilter, limit: int = 50,
                     cursor: int | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """Records by business key or text in their data, newest first; requesters find only their own."""
    if f.status and f.status not in STATUSES:
        raise BadRequest(f"status must be one of {', '.join(STATUSES)}")
    stmt = select(ProcessInstance).where(policy.visible_records(uow, actor)).order_by(ProcessInstance.id.desc())
    if f.process:
        stmt = stmt.where(ProcessInstance.process_key == f.process)
    if f.status:
        stmt = stmt.where(ProcessInstance.status == f.status)
    if f.q.strip():
        like = f"%{f.q.strip()}%"
        stmt = stmt.where(or_(ProcessInstance.business_key.ilike(like), ProcessInstance.data_json.ilike(like)))
    if f.start:
        stmt = stmt.where(ProcessInstance.started_at >= _day_start(f.start))
    if f.end:
        stmt = stmt.where(ProcessInstance.started_at < _day_start(f.end) + timedelta(days=1))
    if f.started_by:
        stmt = stmt.where(ProcessInstance.started_by == f.started_by)
    if cursor:
        stmt = stmt.where(ProcessInstance.id < cursor)
    found = list(uow.session.execute(stmt.limit(limit + 1)).scalars())
    next_cursor = found[limit - 1].id if len(found) > limit else None
    rows = []
    for inst in found[:limit]:
        data = json.loads(inst.data_json)
        decl = declared.of_version(uow, inst.process_version_id)
        rows.append({"id": inst.id, "business_key": inst.business_key, "process": inst.process_key,
                     "version": inst.version, "status": inst.status, "summary": decl.summary(data),
                     "priority": data.get(decl.priority_field) if decl.priority_field else None,
                     "started_by": inst.started_by,
                     "started": _aware(inst.started_at), "ended": _aware(inst.ended_at)})
    return rows, next_cursor


def exact_key(uow: UnitOfWork, actor: Actor, q: str) -> str | None:
    """The business key typed in the search box, when it names a record the actor may open."""
    text = q.strip().upper()
    if not text or " " in text or "-" not in text:
        return None
    found = uow.session.execute(select(ProcessInstance.id).where(ProcessInstance.business_key == text)).scalar()
    if found is None or not policy.may_see_record(uow, actor, found):
        return None
    return text


# --------------------------------------------------------------------------------------------- audit trail

@dataclass
class TrailFilter:
    process: str = ""
    start: date | None = None
    end: date | None = None
    actor: str = ""
    type: str = ""
    status: str = ""
    q: str = ""

    def is_empty(self) -> bool:
        return not any((self.process, self.start, self.end, self.actor, self.type, self.status, self.q))


EXPORT_COLUMNS = ("seq", "at", "actor", "type", "instance_id", "business_key", "process", "element_id",
                  "element_name", "data", "prev_hash", "hash")


def _trail_query(f: TrailFilter) -> Select[Any]:
    stmt = (select(AuditEvent, ProcessInstance.business_key, ProcessInstance.process_key, ProcessInstance.status)
            .outerjoin(ProcessInstance, ProcessInstance.id == AuditEvent.instance_id))
    if f.process:
        stmt = stmt.where(or_(ProcessInstance.process_key == f.process,
                              and_(AuditEvent.instance_id.is_(None), AuditEvent.element_id == f.process)))
    if f.start:
        stmt = stmt.where(AuditEvent.at >= _day_start(f.start))
    if f.end:
        stmt = stmt.where(AuditEvent.at < _day_start(f.end) + timedelta(days=1))
    if f.actor:
        stmt = stmt.where(AuditEvent.actor == f.actor)
    if f.type:
        kind = f.type.strip()
        stmt = stmt.where(AuditEvent.type.startswith(kind) if kind.endswith(".") else AuditEvent.type == kind)
    if f.status:
        stmt = stmt.where(ProcessInstance.status == f.status)
    if f.q.strip():
        stmt = stmt.where(ProcessInstance.business_key.ilike(f"%{f.q.strip()}%"))
    return stmt


def _trail_row(ev: AuditEvent, business_key: str | None, process: str | None, status: str | None) -> dict[str, Any]:
    return {**audit.event_view(ev), "when": _aware(ev.at), "business_key": business_key, "process": process,
            "instance_status": status}


def trail(uow: UnitOfWork, actor: Actor, f: TrailFilter, limit: int = 100,
          before: int | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """Audit events matching the filter, newest first, `limit` at a time (cursor: the last seq shown)."""
    policy.require(actor, "trail")
    stmt = _trail_query(f).order_by(AuditEvent.seq.desc())
    if before:
        stmt = stmt.where(AuditEvent.seq < before)
    found = list(uow.session.execute(stmt.limit(limit + 1)))
    next_cursor = found[limit - 1][0].seq if len(found) > limit else None
    return [_trail_row(*row) for row in found[:limit]], next_cursor


def event_types(uow: UnitOfWork) -> list[str]:
    return sorted(uow.session.execute(select(AuditEvent.type).distinct()).scalars())


def export_trail(db: Database, actor: Actor, f: TrailFilter, batch: int = 500) -> Iterator[dict[str, Any]]:
    """The filtered trail oldest first, as stored (the hashed body: `at` to the microsecond, `data` the
    canonical JSON text), plus business key and process: an unfiltered export verifies with
    audit.verify_rows. Checks the permission now; reads in batches while iterated."""
    policy.require(actor, "trail")

    def rows() -> Iterator[dict[str, Any]]:
        after = 0
        while True:
            with unit_of_work(db) as uow:
                stmt = _trail_query(f).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(batch)
                found = list(uow.session.execute(stmt))
            for ev, business_key, process, _status in found:
                yield {**audit.stored_row(ev), "business_key": business_key, "process": process}
            if len(found) < batch:
                return
            after = found[-1][0].seq

    return rows()


def verify_trail(uow: UnitOfWork, actor: Actor) -> audit.Verification:
    policy.require(actor, "trail")
    return audit.verify(uow)


# ------------------------------------------------------------------------------------------ the catalogue

def catalogue(uow: UnitOfWork, actor: Actor) -> dict[str, list[dict[str, Any]]]:
    """Every process and decision table with all its versions, newest first."""
    policy.require(actor, "catalogue")
    processes: dict[str, dict[str, Any]] = {}
    for row in uow.session.execute(select(ProcessVersion).order_by(ProcessVersion.key,
                                                                   ProcessVersion.version.desc())).scalars():
        if row.key not in processes:  # newest first: the first row of a key is its latest version
            processes[row.key] = {"key": row.key, "name": row.name, "latest": row.version, "versions": [],
                                  "calls": json.loads(row.meta_json).get("calls", []), "called_by": []}
        processes[row.key]["versions"].append({**deploy.version_view(row), "at": _aware(row.deployed_at)})
    for entry in processes.values():  # the call hierarchy, both ways
        for call in entry["calls"]:
            if call["key"] in processes:
                processes[call["key"]]["called_by"].append({"key": entry["key"], "element_id": call["element_id"]})
    running: dict[str, int] = dict(uow.session.execute(
        select(ProcessInstance.process_key, func.count()).where(ProcessInstance.status.in_(OPEN_STATUSES))
        .group_by(ProcessInstance.process_key)).tuples().all())
    for entry in processes.values():
        entry["open"] = running.get(entry["key"], 0)
    tables: dict[str, dict[str, Any]] = {}
    for table in uow.session.execute(select(DecisionVersion).order_by(DecisionVersion.key,
                                                                      DecisionVersion.version.desc())).scalars():
        entry = tables.setdefault(table.key, {"key": table.key, "name": table.name, "latest": table.version,
                                                 "versions": []})
        entry["versions"].append({**decisions.version_view(table), "at": _aware(table.deployed_at)})
    return {"processes": list(processes.values()), "decisions": list(tables.values())}


def decision_tests(uow: UnitOfWork, actor: Actor, key: str, version: int) -> str:
    """The example cases a table version was deployed with (its *.tests.json), to send again on redeploy."""
    policy.require(actor, "catalogue")
    return decisions.get_version(uow, key, version).tests_json or "[]"

