"""Read models for the browser UI: the inbox, the data a task or record page shows, instance and audit-trail
search with export and the process catalogue. The dashboard's measures are in engine/services/dashboard.py.

Plain functions over a UnitOfWork (SQLAlchemy 2.0 queries), permissions decided from the Actor, no Flask."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import AuditEvent, DecisionVersion, HumanTask, ProcessInstance, ProcessVersion, TaskCandidate
from engine.errors import BadRequest, NotAllowed
from engine.services import audit, decisions, deploy, instances, tasks
from engine.services.actors import Actor

DASHBOARD_ROLES = ("service_desk", "change_manager", "release_manager", "process_owner", "auditor", "admin")
TRAIL_ROLES = ("auditor", "admin")
CATALOGUE_ROLES = ("process_owner", "admin", "auditor")
CANCEL_ROLES = ("change_manager", "release_manager", "admin")
RESPONSE_PROCESSES = ("response",)
OPEN_STATUSES = ("running", "waiting", "error")
STATUSES = ("running", "waiting", "completed", "error", "cancelled")
PRIORITIES = ("P1", "P2", "P3", "P4")
SOON = timedelta(hours=1)


def _require(actor: Actor, roles: tuple[str, ...]) -> None:
    if not actor.has(*roles):
        raise NotAllowed(f"this needs one of the roles {', '.join(roles)}")


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
    tabs = ["available", "mine"]
    if actor.sees_everything or actor.has("service_desk"):
        tabs.append("all")
    return tabs


def _scoped(stmt: Select[Any], actor: Actor, tab: str) -> Select[Any]:
    """The same scopes as tasks.list_tasks: mine = claimed by me, available = unclaimed for my roles."""
    if tab == "mine":
        return stmt.where(HumanTask.assignee == actor.username)
    if tab == "available":
        candidates = select(TaskCandidate.task_id).where(TaskCandidate.role.in_(sorted(actor.roles)))
        return stmt.where(HumanTask.assignee.is_(None), HumanTask.id.in_(candidates))
    return stmt


@dataclass
class Inbox:
    tab: str
    tabs: list[tuple[str, int]]
    rows: list[dict[str, Any]]
    q: str = ""
    process: str = ""


def inbox(uow: UnitOfWork, actor: Actor, tab: str = "available", q: str | None = None,
          process: str | None = None, limit: int = 100) -> Inbox:
    """Overdue first, then by priority, then by due time and age; each row with its SLA state."""
    allowed = inbox_tabs(actor)
    if tab not in allowed:
        if tab in tasks.SCOPES:
            raise NotAllowed("only managers, auditors and the service desk see all tasks")
        raise BadRequest(f"tab must be one of {', '.join(allowed)}")
    now = clock.now()
    counts = []
    for name in allowed:
        stmt = _scoped(select(func.count()).select_from(HumanTask), actor, name)
        counts.append((name, uow.session.execute(stmt).scalar_one()))
    overdue = case((and_(HumanTask.due_at.is_not(None), HumanTask.due_at <= now), 0), else_=1)
    stmt = _scoped(select(HumanTask, ProcessInstance.data_json)
                   .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id), actor, tab)
    if process:
        stmt = stmt.where(HumanTask.process_key == process)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(HumanTask.business_key.ilike(like), HumanTask.name.ilike(like),
                              ProcessInstance.data_json.ilike(like)))
    stmt = stmt.order_by(overdue, HumanTask.priority.is_(None), HumanTask.priority, HumanTask.due_at.is_(None),
                         HumanTask.due_at, HumanTask.created_at).limit(limit)
    rows = []
    for task, data_json in uow.session.execute(stmt):
        data = json.loads(data_json)
        rows.append({**tasks.task_summary(task), "summary": _headline(data),
                     "sla": sla_state(task.due_at, task.created_at, now),
                     "due": _aware(task.due_at), "created": _aware(task.created_at)})
    return Inbox(tab, counts, rows, q or "", process or "")


def _headline(data: dict[str, Any]) -> str:
    for key in ("summary", "title", "opportunity"):
        if isinstance(data.get(key), str) and data[key].strip():
            return data[key].strip()
    return ""


# ----------------------------------------------------------------------------------- task and record pages

def _timeline(events: list[AuditEvent]) -> list[dict[str, Any]]:
    return [{**audit.event_view(ev), "when": _aware(ev.at)} for ev in events]


def task_page(uow: UnitOfWork, actor: Actor, task_id: str) -> dict[str, Any]:
    """The task with its form, what the actor may do with it, and the record's history."""
    task = tasks.get(uow, actor, task_id)
    has_role = bool(set(task["roles"]) & actor.roles)
    mine, free = task["assignee"] == actor.username, task["assignee"] is None
    record, events = None, []
    try:
        inst = instances.find(uow, actor, task["instance_id"])
    except NotAllowed:
        inst = None  # the task is offered to the actor's role, but the record is someone else's
    if inst is not None:
        record = instances.view(uow, inst, with_tasks=False)
        events = _timeline(audit.instance_events(uow, inst.id))
    # The same rules as tasks.claim / unclaim / complete, so the page offers only what will succeed.
    return {"task": task, "record": record, "events": events, "may_work": mine or (free and has_role),
            "may_claim": free and (has_role or actor.has("admin")),
            "may_unclaim": mine or (not free and actor.has("admin")),
            "due": _aware(datetime.fromisoformat(task["due_at"])) if task["due_at"] else None,
            "sla": sla_state(datetime.fromisoformat(task["due_at"]) if task["due_at"] else None,
                             datetime.fromisoformat(task["created_at"]), clock.now())}


def record_page(uow: UnitOfWork, actor: Actor, ref: str) -> dict[str, Any]:
    """An instance as a record: data, open tasks (with what the actor may do), related records, history."""
    inst = instances.find(uow, actor, ref)
    view = instances.view(uow, inst)
    for t in view["tasks"]:
        t["mine"] = t["assignee"] == actor.username
        t["for_me"] = bool(set(t["roles"]) & actor.roles) or actor.has("admin")
        t["sla"] = sla_state(datetime.fromisoformat(t["due_at"]) if t["due_at"] else None,
                             datetime.fromisoformat(t["created_at"]), clock.now())
    return {"record": view, "related": instances.related(uow, inst),
            "events": _timeline(audit.instance_events(uow, inst.id)),
            "may_cancel": actor.has(*CANCEL_ROLES) and inst.status not in ("completed", "cancelled")}


# ----------------------------------------------------------------------------------------- starting records

START_KINDS = ("incident", "request", "change")


def process_keys(uow: UnitOfWork) -> list[str]:
    return sorted(uow.session.execute(select(ProcessVersion.key).distinct()).scalars())


def start_options(uow: UnitOfWork) -> dict[str, str]:
    """Which deployed process takes a new record of each kind: triage routes incidents and requests when it
    is deployed, response otherwise; changes go to change."""
    keys = set(process_keys(uow))
    options: dict[str, str] = {}
    front = "triage" if "triage" in keys else "response" if "response" in keys else None
    if front:
        options["incident"] = options["request"] = front
    if "change" in keys:
        options["change"] = "change"
    return options


@dataclass
class Started:
    business_key: str
    process: str
    version: int
    next_task: str | None = None


def start_record(db: Database, actor: Actor, kind: str, data: dict[str, Any]) -> Started:
    """Starts the process that takes a record of this kind; returns the first task the actor may do, if any."""
    with unit_of_work(db) as uow:
        process = start_options(uow).get(kind)
    if process is None:
        raise BadRequest(f"no process for a new {kind} is deployed")
    data = dict(data)
    if process == "triage":  # triage asks what kind of record it is: say it, from the form that was used
        record_kind = {"incident": "incident", "change": "rfc"}.get(kind) or (
            "information" if data.get("query_type") == "information" else "request")
        data.setdefault("record_kind", record_kind)
    inst = instances.start(db, actor, process, data)
    with unit_of_work(db) as uow:
        stmt = (select(HumanTask).where(HumanTask.instance_id == inst.id).order_by(HumanTask.created_at))
        mine = [t for t in uow.session.execute(stmt).scalars()
                if t.assignee in (None, actor.username) and set(json.loads(t.roles_json)) & actor.roles]
        return Started(inst.business_key, inst.process_key, inst.version, mine[0].id if mine else None)


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
    stmt = select(ProcessInstance).order_by(ProcessInstance.id.desc())
    if not (actor.roles - {"requester"}):
        stmt = stmt.where(ProcessInstance.started_by == actor.username)
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
        rows.append({"id": inst.id, "business_key": inst.business_key, "process": inst.process_key,
                     "version": inst.version, "status": inst.status, "summary": _headline(data),
                     "priority": data.get("priority"), "started_by": inst.started_by,
                     "started": _aware(inst.started_at), "ended": _aware(inst.ended_at)})
    return rows, next_cursor


def exact_key(uow: UnitOfWork, actor: Actor, q: str) -> str | None:
    """The business key typed in the search box, when it names a record the actor may open."""
    text = q.strip().upper()
    if not text or " " in text or "-" not in text:
        return None
    inst = uow.session.execute(select(ProcessInstance).where(ProcessInstance.business_key == text)).scalar_one_or_none()
    if inst is None:
        return None
    try:
        instances.find(uow, actor, inst.id)
    except NotAllowed:
        return None
    return inst.business_key


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
    _require(actor, TRAIL_ROLES)
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
    _require(actor, TRAIL_ROLES)

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
    _require(actor, TRAIL_ROLES)
    return audit.verify(uow)


# ------------------------------------------------------------------------------------------ the catalogue

def catalogue(uow: UnitOfWork, actor: Actor) -> dict[str, list[dict[str, Any]]]:
    """Every process and decision table with all its versions, newest first."""
    _require(actor, CATALOGUE_ROLES)
    processes: dict[str, dict[str, Any]] = {}
    for row in uow.session.execute(select(ProcessVersion).order_by(ProcessVersion.key,
                                                                   ProcessVersion.version.desc())).scalars():
        entry = processes.setdefault(row.key, {"key": row.key, "name": row.name, "latest": row.version,
                                               "versions": []})
        entry["versions"].append({**deploy.version_view(row), "at": _aware(row.deployed_at)})
    running = dict(uow.session.execute(
        select(ProcessInstance.process_key, func.count()).where(ProcessInstance.status.in_(OPEN_STATUSES))
        .group_by(ProcessInstance.process_key)).all())
    for entry in processes.values():
        entry["open"] = running.get(entry["key"], 0)
    tables: dict[str, dict[str, Any]] = {}
    for row in uow.session.execute(select(DecisionVersion).order_by(DecisionVersion.key,
                                                                    DecisionVersion.version.desc())).scalars():
        entry = tables.setdefault(row.key, {"key": row.key, "name": row.name, "latest": row.version,
                                               "versions": []})
        entry["versions"].append({**decisions.version_view(row), "at": _aware(row.deployed_at)})
    return {"processes": list(processes.values()), "decisions": list(tables.values())}


def decision_tests(uow: UnitOfWork, actor: Actor, key: str, version: int) -> str:
    """The example cases a table version was deployed with (its *.tests.json), to send again on redeploy."""
    _require(actor, CATALOGUE_ROLES)
    return decisions.get_version(uow, key, version).tests_json or "[]"

