"""The inbox as pages: keyset pagination, sorting by column, filters with exact counts.

A page is `limit` rows after a cursor (the sort key of the last row shown, opaque to callers), so page 2,000
costs what page 1 costs. Each sort is a tuple of column expressions ending in the task id; NULLs are mapped to a
value past every real one (COALESCE) so that one row-value comparison `(a, b, c, id) > (:a, :b, :c, :id)` finds
the next page, and the `ix_human_task_inbox_*` expression indexes serve the order (see docs/performance.md).
Who sees which tasks in each tab is `task_scope` below (the permission rules live in the policy module)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, or_, select, tuple_

from engine import clock
from engine.db.database import UnitOfWork
from engine.db.models import HumanTask, InboxTally, ProcessInstance
from engine.errors import BadRequest
from engine.services import inbox_tally, policy
from engine.services.actors import Actor

PRIORITIES = ("P1", "P2", "P3", "P4")
SLA_STATES = ("overdue", "due-soon", "on-track", "none")
SOON = timedelta(hours=1)
MAX_LIMIT = 200
NO_PRIORITY = "P9"  # after P1..P4
FAR = "9999-12-31 00:00:00"  # after every due time
FAR_SQL = {"postgresql": f"TIMESTAMP WITH TIME ZONE '{FAR}+00'",
           "sqlite": f"'{FAR}.000000'"}  # SQLite keeps times as text, always with microseconds
TIME_POSITIONS = {"due": (0, 2), "priority": (1, 2), "created": (0,), "record": (), "task": ()}


def _far(uow: UnitOfWork) -> Any:
    # A literal, not a parameter: PostgreSQL uses an expression index only when the query's expression matches it.
    return literal_column(FAR_SQL["postgresql" if uow.is_postgres else "sqlite"])


def sort_columns(uow: UnitOfWork, sort: str) -> list[Any]:
    due = func.coalesce(HumanTask.due_at, _far(uow))
    priority = func.coalesce(HumanTask.priority, literal_column(f"'{NO_PRIORITY}'"))
    columns: dict[str, list[Any]] = {
        "due": [due, priority, HumanTask.created_at, HumanTask.id],
        "priority": [priority, due, HumanTask.created_at, HumanTask.id],
        "created": [HumanTask.created_at, HumanTask.id],
        "record": [HumanTask.business_key, HumanTask.id],
        "task": [HumanTask.name, HumanTask.id],
    }
    return columns[sort]


SORTS = ("due", "priority", "created", "record", "task")


@dataclass
class Filters:
    process: str = ""
    priority: str = ""  # P1..P4 or "none"
    sla: str = ""  # overdue / due-soon / on-track / none
    due_from: date | None = None
    due_to: date | None = None
    assignee: str = ""  # a user name, or "none" for unclaimed
    role: str = ""  # offered to this role
    q: str = ""

    def check(self) -> None:
        if self.priority and self.priority not in (*PRIORITIES, "none"):
            raise BadRequest("priority must be P1, P2, P3, P4 or none", fields={"priority": "P1..P4 or none"})
        if self.sla and self.sla not in SLA_STATES:
            raise BadRequest(f"sla must be one of {', '.join(SLA_STATES)}", fields={"sla": "unknown SLA state"})
        if self.due_from and self.due_to and self.due_to < self.due_from:
            raise BadRequest("the due range ends before it starts", fields={"due_to": "is before due_from"})

    def as_args(self) -> dict[str, str]:
        out = {"process": self.process, "priority": self.priority, "sla": self.sla, "assignee": self.assignee,
               "role": self.role, "q": self.q,
               "due_from": self.due_from.isoformat() if self.due_from else "",
               "due_to": self.due_to.isoformat() if self.due_to else ""}
        return {k: v for k, v in out.items() if v}


@dataclass
class Page:
    tab: str
    sort: str
    rows: list[HumanTask]
    total: int  # rows matching the tab and the filters, exactly
    next_cursor: str | None
    filters: Filters = field(default_factory=Filters)


# ----------------------------------------------------------------------------------------- who sees what

def task_scope(uow: UnitOfWork, actor: Actor, tab: str) -> ColumnElement[bool]:
    """The tab's tasks for this actor: the policy decides (todo, available, mine, all)."""
    return policy.task_scope(uow, actor, tab)


# ------------------------------------------------------------------------------------------------ filters

def _epoch(uow: UnitOfWork, column: Any) -> Any:
    if uow.is_postgres:
        return func.extract("epoch", column)
    return (func.julianday(column) - 2440587.5) * 86400.0


def _sla_clause(uow: UnitOfWork, state: str, now: datetime) -> ColumnElement[bool]:
    """The states of reports.sla_state in SQL: due-soon is the last hour or the last quarter of the window."""
    if state == "none":
        return HumanTask.due_at.is_(None)
    if state == "overdue":
        return HumanTask.due_at <= now
    now_s = now.timestamp()
    quarter = 3 * _epoch(uow, HumanTask.due_at) <= 4 * now_s - _epoch(uow, HumanTask.created_at)
    soon = and_(HumanTask.due_at > now, or_(HumanTask.due_at <= now + SOON, quarter))
    if state == "due-soon":
        return soon
    return and_(HumanTask.due_at > now, ~or_(HumanTask.due_at <= now + SOON, quarter))


def _day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def filter_clauses(uow: UnitOfWork, f: Filters, now: datetime) -> list[ColumnElement[bool]]:
    f.check()
    out: list[ColumnElement[bool]] = []
    if f.process:
        out.append(HumanTask.process_key == f.process)
    if f.priority:
        out.append(HumanTask.priority.is_(None) if f.priority == "none" else HumanTask.priority == f.priority)
    if f.sla:
        out.append(_sla_clause(uow, f.sla, now))
    # A due range is also stated on the due sort's key (implied by the plain test, NULL being FAR), so that the
    # due-ordered index starts the page at the range instead of walking every task due before it.
    due_key = func.coalesce(HumanTask.due_at, _far(uow))
    if f.due_from:
        out += [HumanTask.due_at >= _day(f.due_from), due_key >= _day(f.due_from)]
    if f.due_to:
        out += [HumanTask.due_at < _day(f.due_to) + timedelta(days=1), due_key < _day(f.due_to) + timedelta(days=1)]
    if f.assignee:
        out.append(HumanTask.assignee.is_(None) if f.assignee == "none" else HumanTask.assignee == f.assignee)
    if f.role:
        out.append(policy.for_roles(uow, f.role))
    if f.q.strip():
        like = f"%{f.q.strip()}%"
        in_data = select(ProcessInstance.id).where(ProcessInstance.data_json.ilike(like))
        out.append(or_(HumanTask.business_key.ilike(like), HumanTask.name.ilike(like),
                       HumanTask.instance_id.in_(in_data)))
    return out


# ------------------------------------------------------------------------------------------------- cursor

def encode_cursor(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list):
            raise ValueError
        width = {"due": 4, "priority": 4, "created": 2, "record": 2, "task": 2}[sort]
        if len(raw) != width or not all(isinstance(v, str) for v in raw):
            raise ValueError
        out: list[Any] = []
        for position, value in enumerate(raw):
            if position in TIME_POSITIONS[sort]:
                parsed = datetime.fromisoformat(value)
                out.append(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
            else:
                out.append(value)
        return out
    except (ValueError, TypeError, KeyError, json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("the cursor is not one this inbox gave out (sorting changed?)",
                         fields={"cursor": "is not valid for this sort"}) from None


def _row_key(task: HumanTask, sort: str) -> list[Any]:
    due = task.due_at if task.due_at is not None else datetime.fromisoformat(FAR).replace(tzinfo=UTC)
    priority = task.priority or NO_PRIORITY
    keys: dict[str, list[Any]] = {
        "due": [due, priority, task.created_at, task.id], "priority": [priority, due, task.created_at, task.id],
        "created": [task.created_at, task.id], "record": [task.business_key, task.id], "task": [task.name, task.id]}
    return keys[sort]


# ------------------------------------------------------------------------------------------------- totals

def exact_total(uow: UnitOfWork, actor: Actor, tab: str, f: Filters, where: list[ColumnElement[bool]]) -> int:
    """Every match of the page's WHERE: from the inbox tally when it counts this tab and these filters, else
    counted (the time filters, the search text and one person's tasks are narrow enough to count)."""
    tallied = _tallied(uow, actor, tab, f)
    return tallied if tallied is not None else _count(uow, *where)


def _count(uow: UnitOfWork, *where: ColumnElement[bool]) -> int:
    return uow.session.execute(select(func.count()).select_from(HumanTask).where(*where)).scalar_one()


def _tallied(uow: UnitOfWork, actor: Actor, tab: str, f: Filters) -> int | None:
    if f.sla or f.due_from or f.due_to or f.q.strip() or f.assignee not in ("", "none"):
        return None
    if tab == "mine" or (tab == "all" and not policy.sees_all(actor)):
        return None  # one person's tasks (an index range), or a staff member's records (not counted by group)
    on = [InboxTally.process_key == f.process] if f.process else []
    if f.priority:
        on.append(InboxTally.priority.is_(None) if f.priority == "none" else InboxTally.priority == f.priority)
    if tab == "all":  # someone who sees every task
        if f.assignee == "none":
            on.append(InboxTally.assigned.is_(False))
        return sum(g.count for g in inbox_tally.groups(uow, *on) if not f.role or f.role in g.roles)
    rule = policy.offered_by_role(uow, actor)
    total = sum(g.count for g in inbox_tally.groups(uow, InboxTally.assigned.is_(False), *on)
                if (not f.role or f.role in g.roles) and rule(g.process_version_id, g.roles))
    narrowed = filter_clauses(uow, f, clock.now())  # here only process, priority, role, unclaimed
    total += _count(uow, policy.offered_personally(uow, actor), *narrowed)
    if tab == "todo":
        total += _count(uow, HumanTask.assignee == actor.username, *narrowed)
    return total


# --------------------------------------------------------------------------------------------------- page

def parse_sort(sort: str | None) -> tuple[str, bool]:
    """`due` (the default: overdue and soonest first), `priority`, `created`, `record`, `task`; `-x` reverses."""
    raw = (sort or "due").strip()
    descending = raw.startswith("-")
    name = raw.lstrip("-")
    if name not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)} (with - to reverse)", fields={"sort": "unknown"})
    return name, descending


def page(uow: UnitOfWork, actor: Actor, tab: str, filters: Filters | None = None, sort: str | None = None,
         limit: int = 50, cursor: str | None = None, count: bool = True) -> Page:
    """One page; `count=False` skips the exact total (it is then -1): the benchmark times the two apart."""
    filters = filters or Filters()
    name, descending = parse_sort(sort)
    limit = max(1, min(MAX_LIMIT, limit))
    now = clock.now()
    where = [task_scope(uow, actor, tab), *filter_clauses(uow, filters, now)]
    columns = sort_columns(uow, name)
    stmt = select(HumanTask).where(*where)
    if cursor:
        after = decode_cursor(cursor, name)
        key = tuple_(*columns)
        stmt = stmt.where(key < tuple_(*after) if descending else key > tuple_(*after))
    stmt = stmt.order_by(*[c.desc() if descending else c.asc() for c in columns]).limit(limit + 1)
    rows = list(uow.session.execute(stmt).scalars())
    total = exact_total(uow, actor, tab, filters, where) if count else -1
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(_row_key(rows[-1], name)) if more and rows else None
    return Page(tab, ("-" if descending else "") + name, rows, total, next_cursor, filters)
