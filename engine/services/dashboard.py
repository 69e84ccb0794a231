"""The service-desk measures of ITSM.express for the dashboard: open work by priority, time to respond and to
resolve (median, p90), first-line resolution, reopened records, SLA breaches and escalations, changes by class
and approver, over a chosen period. Plain functions over a UnitOfWork, no Flask."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select

from engine import clock
from engine.db.database import UnitOfWork
from engine.db.models import AuditEvent, HumanTask, ProcessInstance
from engine.errors import BadRequest
from engine.services import declared, policy, tasks
from engine.services.actors import Actor
from engine.services.reports import OPEN_STATUSES, PRIORITIES, _aware, _day_start


@dataclass
class Period:
    start: datetime
    end: datetime

    @classmethod
    def of(cls, start: date | None, end: date | None, default_days: int = 30) -> Period:
        today = clock.now().date()
        end = end or today
        start = start or end - timedelta(days=default_days - 1)
        if start > end:
            raise BadRequest("the period starts after it ends", fields={"from": "must be before to"})
        if (end - start).days > 366:
            raise BadRequest("choose a period of at most a year", fields={"from": "at most a year before to"})
        return cls(_day_start(start), _day_start(end) + timedelta(days=1))

    @property
    def days(self) -> list[date]:
        n = (self.end - self.start).days
        return [(self.start + timedelta(days=i)).date() for i in range(n)]


@dataclass
class Durations:
    n: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None

    @classmethod
    def of(cls, values: list[timedelta]) -> Durations:
        if not values:
            return cls()
        ordered = sorted(values)
        seconds = statistics.median(v.total_seconds() for v in ordered)
        p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]  # nearest rank
        return cls(len(ordered), timedelta(seconds=seconds), p90)


@dataclass
class Ratio:
    count: int = 0
    of: int = 0

    @property
    def percent(self) -> float | None:
        return round(100 * self.count / self.of, 1) if self.of else None


@dataclass
class Dashboard:
    period: Period
    open_by_priority: list[tuple[str, int]] = field(default_factory=list)
    open_tasks: int = 0
    opened_per_day: list[tuple[date, int]] = field(default_factory=list)
    closed_per_day: list[tuple[date, int]] = field(default_factory=list)
    respond: Durations = field(default_factory=Durations)
    resolve: Durations = field(default_factory=Durations)
    first_line: Ratio = field(default_factory=Ratio)
    reopened: Ratio = field(default_factory=Ratio)
    overdue_tasks: list[dict[str, Any]] = field(default_factory=list)
    overdue_count: int = 0
    escalations: int = 0
    escalations_by_element: list[tuple[str, int]] = field(default_factory=list)
    breakdowns: list[BreakdownCount] = field(default_factory=list)
    record_processes: list[str] = field(default_factory=list)  # names of the processes whose records count
    # The records behind each figure (the dashboard's drill-down): "priority:P1", "opened:2026-03-01",
    # "closed:<day>", "respond", "resolve", "first_line", "reopened", "escalation:<timer>",
    # "breakdown:<process>:<field>:<value>".
    records: dict[str, list[int]] = field(default_factory=dict)

    def note(self, figure: str, instance_id: int) -> None:
        self.records.setdefault(figure, []).append(instance_id)


@dataclass
class BreakdownCount:
    """Records of one process started in the period, by the value of a declared field."""

    process: str
    process_name: str
    field: str
    rows: list[tuple[str, int]]
    total: int


def _count_sorted(counter: Counter[str], order: tuple[str, ...] = ()) -> list[tuple[str, int]]:
    known = [(k, counter[k]) for k in order if counter.get(k)]
    rest = sorted(((k, v) for k, v in counter.items() if k not in order), key=lambda kv: (-kv[1], kv[0]))
    return known + rest


def _at(value: datetime | None) -> datetime:
    """A time the query guarantees (a record's start, a completed record's end, a first touch), made aware."""
    aware = _aware(value)
    assert aware is not None
    return aware


def dashboard(uow: UnitOfWork, actor: Actor, period: Period) -> Dashboard:
    """The service-desk measures over a period, over the records of the processes that declare
    `dashboard_records` (docs/modelling.md):
    - open work by priority: records open now, by their priority field; open human tasks;
    - time to respond: start of a record -> first claim or completion of one of its tasks by a person;
    - time to resolve: start -> the record closed (completed), for records closed in the period;
    - first-line resolution: share of records closed in the period whose `dashboard_first_line` field is true;
    - reopened: share of records closed in the period that a completion sent back (its `dashboard_reopened`
      field answered false);
    - SLA breaches: open tasks past their due time now, and SLA timers fired (escalations) in the period;
    - per `dashboard_breakdown`: records of that process started in the period, by the field's value."""
    policy.require(actor, "dashboard")
    s = uow.session
    board = Dashboard(period)
    now = clock.now()
    versions = declared.all_versions(uow)
    counted = sorted(v for v, d in versions.items() if d.measures.records)
    board.record_processes = sorted({versions[v].name for v in counted})

    priorities: Counter[str] = Counter()
    for instance_id, version_id, data_json in s.execute(
            select(ProcessInstance.id, ProcessInstance.process_version_id, ProcessInstance.data_json).where(
            ProcessInstance.status.in_(OPEN_STATUSES), ProcessInstance.process_version_id.in_(counted))):
        name = versions[version_id].priority_field
        level = (json.loads(data_json).get(name) if name else None) or "none"
        priorities[level] += 1
        board.note(f"priority:{level}", instance_id)
    board.open_by_priority = [(p, priorities.get(p, 0)) for p in PRIORITIES] + (
        [("none", priorities["none"])] if priorities.get("none") else [])
    board.open_tasks = s.execute(select(func.count()).select_from(HumanTask)).scalar_one()

    in_period = and_(ProcessInstance.process_version_id.in_(counted),
                     ProcessInstance.started_at >= period.start, ProcessInstance.started_at < period.end)
    started = list(s.execute(select(ProcessInstance.id, ProcessInstance.started_at).where(in_period)))
    opened = Counter(_at(at).date() for _, at in started)
    board.opened_per_day = [(d, opened.get(d, 0)) for d in period.days]
    first_touch: dict[int | None, datetime] = dict(s.execute(
        select(AuditEvent.instance_id, func.min(AuditEvent.at))
        .where(AuditEvent.type.in_(("task.claimed", "task.completed")),
               AuditEvent.instance_id.in_(select(ProcessInstance.id).where(in_period)))
        .group_by(AuditEvent.instance_id)).tuples().all())
    board.respond = Durations.of([_at(first_touch[i]) - _at(at)
                                  for i, at in started if i in first_touch])
    for i, at in started:
        board.note(f"opened:{_at(at).date()}", i)
        if i in first_touch:
            board.note("respond", i)

    closed = list(s.execute(select(ProcessInstance.id, ProcessInstance.started_at, ProcessInstance.ended_at,
                                   ProcessInstance.data_json, ProcessInstance.process_version_id).where(
        ProcessInstance.process_version_id.in_(counted), ProcessInstance.status == "completed",
        ProcessInstance.ended_at >= period.start, ProcessInstance.ended_at < period.end)))
    board.resolve = Durations.of([_at(end) - _at(begin) for _, begin, end, _, _ in closed])
    closed_days = Counter(_at(end).date() for _, _, end, _, _ in closed)
    board.closed_per_day = [(d, closed_days.get(d, 0)) for d in period.days]
    board.first_line = _first_line(closed, versions)
    sent_back = _sent_back(uow, closed, versions)
    board.reopened = Ratio(len(sent_back), len(closed))
    for i, _, end, data_json, v in closed:
        board.note("resolve", i)
        board.note(f"closed:{_at(end).date()}", i)
        if versions[v].measures.first_line and json.loads(data_json).get(versions[v].measures.first_line) is True:
            board.note("first_line", i)
        if i in sent_back:
            board.note("reopened", i)

    overdue = (select(HumanTask).where(HumanTask.due_at.is_not(None), HumanTask.due_at <= now)
               .order_by(HumanTask.due_at))
    board.overdue_count = s.execute(select(func.count()).select_from(overdue.subquery())).scalar_one()
    board.overdue_tasks = [{**tasks.task_summary(t), "due": _aware(t.due_at)}
                           for t in s.execute(overdue.limit(10)).scalars()]
    fired = list(s.execute(select(AuditEvent.element_name, AuditEvent.element_id, AuditEvent.instance_id).where(
        AuditEvent.type == "timer.fired", AuditEvent.at >= period.start, AuditEvent.at < period.end)))
    board.escalations = len(fired)
    board.escalations_by_element = _count_sorted(Counter(name or el or "timer" for name, el, _ in fired))
    for name, el, instance_id in fired:
        if instance_id is not None:
            board.note(f"escalation:{name or el or 'timer'}", instance_id)
    board.breakdowns = _breakdowns(uow, period, board)
    return board


def _first_line(closed: list[Any], versions: dict[int, Any]) -> Ratio:
    answered = [json.loads(data_json).get(versions[v].measures.first_line) is True
                for _, _, _, data_json, v in closed if versions[v].measures.first_line]
    return Ratio(sum(answered), len(closed))


def _sent_back(uow: UnitOfWork, closed: list[Any], versions: dict[int, Any]) -> set[int]:
    """Records a completion sent back: the version's `dashboard_reopened` field answered false (the trail's
    canonical JSON has no spaces, so the text match is exact)."""
    by_field: dict[str, list[int]] = {}
    for instance_id, _, _, _, v in closed:
        name = versions[v].measures.reopened
        if name:
            by_field.setdefault(name, []).append(instance_id)
    sent_back: set[int] = set()
    for name, ids in by_field.items():
        sent_back |= {i for i in uow.session.execute(select(AuditEvent.instance_id).where(
            AuditEvent.type == "task.completed", AuditEvent.instance_id.in_(ids),
            AuditEvent.data_json.like(f'%"{name}":false%'))).scalars() if i is not None}
    return sent_back


def _breakdowns(uow: UnitOfWork, period: Period, board: Dashboard) -> list[BreakdownCount]:
    result = []
    for key, (_, decl) in declared.latest(uow).items():
        if not decl.measures.breakdowns:
            continue
        rows = [(i, json.loads(d)) for i, d in uow.session.execute(select(
            ProcessInstance.id, ProcessInstance.data_json).where(
            ProcessInstance.process_key == key, ProcessInstance.started_at >= period.start,
            ProcessInstance.started_at < period.end))]
        datas = [d for _, d in rows]
        for b in decl.measures.breakdowns:
            counts = Counter(str(d.get(b.field) or "not set") for d in datas)
            for i, d in rows:
                board.note(f"breakdown:{key}:{b.field}:{d.get(b.field) or 'not set'}", i)
            result.append(BreakdownCount(key, decl.name, b.field, _count_sorted(counts, b.order), len(datas)))
    return result
