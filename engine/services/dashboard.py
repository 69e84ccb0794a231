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
from engine.services import tasks
from engine.services.actors import Actor
from engine.services.reports import (
    DASHBOARD_ROLES,
    OPEN_STATUSES,
    PRIORITIES,
    RESPONSE_PROCESSES,
    _aware,
    _day_start,
    _require,
)


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
    changes_by_class: list[tuple[str, int]] = field(default_factory=list)
    changes_by_approver: list[tuple[str, int]] = field(default_factory=list)
    changes_total: int = 0


def _count_sorted(counter: Counter[str], order: tuple[str, ...] = ()) -> list[tuple[str, int]]:
    known = [(k, counter[k]) for k in order if counter.get(k)]
    rest = sorted(((k, v) for k, v in counter.items() if k not in order), key=lambda kv: (-kv[1], kv[0]))
    return known + rest


def dashboard(uow: UnitOfWork, actor: Actor, period: Period) -> Dashboard:
    """The service-desk measures over a period (records of the response process unless said otherwise):
    - open work by priority: records open now, by their `priority`; open human tasks;
    - time to respond: start of a record -> first claim or completion of one of its tasks by a person;
    - time to resolve: start -> the record closed (completed), for records closed in the period;
    - first-line resolution: share of records closed in the period with `resolved_first_line` true;
    - reopened: share of records closed in the period the user sent back (a `user_confirmed` false) or
      marked `reopened`;
    - SLA breaches: open tasks past their due time now, and SLA timers fired (escalations) in the period;
    - changes started in the period by `change_class` and by `approver`."""
    _require(actor, DASHBOARD_ROLES)
    s = uow.session
    board = Dashboard(period)
    now = clock.now()

    priorities: Counter[str] = Counter()
    for (data_json,) in s.execute(select(ProcessInstance.data_json).where(
            ProcessInstance.status.in_(OPEN_STATUSES), ProcessInstance.process_key.in_(RESPONSE_PROCESSES))):
        priorities[json.loads(data_json).get("priority") or "none"] += 1
    board.open_by_priority = [(p, priorities.get(p, 0)) for p in PRIORITIES] + (
        [("none", priorities["none"])] if priorities.get("none") else [])
    board.open_tasks = s.execute(select(func.count()).select_from(HumanTask)).scalar_one()

    in_period = and_(ProcessInstance.process_key.in_(RESPONSE_PROCESSES),
                     ProcessInstance.started_at >= period.start, ProcessInstance.started_at < period.end)
    started = list(s.execute(select(ProcessInstance.id, ProcessInstance.started_at).where(in_period)))
    opened = Counter(_aware(at).date() for _, at in started)  # type: ignore[union-attr]
    board.opened_per_day = [(d, opened.get(d, 0)) for d in period.days]
    first_touch = dict(s.execute(
        select(AuditEvent.instance_id, func.min(AuditEvent.at))
        .where(AuditEvent.type.in_(("task.claimed", "task.completed")),
               AuditEvent.instance_id.in_(select(ProcessInstance.id).where(in_period)))
        .group_by(AuditEvent.instance_id)).all())
    board.respond = Durations.of([_aware(first_touch[i]) - _aware(at)  # type: ignore[operator]
                                  for i, at in started if i in first_touch])

    closed = list(s.execute(select(ProcessInstance.id, ProcessInstance.started_at, ProcessInstance.ended_at,
                                   ProcessInstance.data_json).where(
        ProcessInstance.process_key.in_(RESPONSE_PROCESSES), ProcessInstance.status == "completed",
        ProcessInstance.ended_at >= period.start, ProcessInstance.ended_at < period.end)))
    board.resolve = Durations.of([_aware(end) - _aware(begin) for _, begin, end, _ in closed])  # type: ignore[operator]
    closed_days = Counter(_aware(end).date() for _, _, end, _ in closed)  # type: ignore[union-attr]
    board.closed_per_day = [(d, closed_days.get(d, 0)) for d in period.days]
    datas = {i: json.loads(dj) for i, _, _, dj in closed}
    board.first_line = Ratio(sum(1 for d in datas.values() if d.get("resolved_first_line") is True), len(datas))
    sent_back = set(s.execute(select(AuditEvent.instance_id).where(
        AuditEvent.type == "task.completed", AuditEvent.instance_id.in_(list(datas) or [-1]),
        AuditEvent.data_json.like('%"user_confirmed":false%'))).scalars())
    board.reopened = Ratio(sum(1 for i, d in datas.items() if i in sent_back or d.get("reopened") is True),
                           len(datas))

    overdue = (select(HumanTask).where(HumanTask.due_at.is_not(None), HumanTask.due_at <= now)
               .order_by(HumanTask.due_at))
    board.overdue_count = s.execute(select(func.count()).select_from(overdue.subquery())).scalar_one()
    board.overdue_tasks = [{**tasks.task_summary(t), "due": _aware(t.due_at)}
                           for t in s.execute(overdue.limit(10)).scalars()]
    fired = list(s.execute(select(AuditEvent.element_name, AuditEvent.element_id).where(
        AuditEvent.type == "timer.fired", AuditEvent.at >= period.start, AuditEvent.at < period.end)))
    board.escalations = len(fired)
    board.escalations_by_element = _count_sorted(Counter(name or el or "timer" for name, el in fired))

    classes: Counter[str] = Counter()
    approvers: Counter[str] = Counter()
    for (data_json,) in s.execute(select(ProcessInstance.data_json).where(
            ProcessInstance.process_key == "change", ProcessInstance.started_at >= period.start,
            ProcessInstance.started_at < period.end)):
        data = json.loads(data_json)
        classes[str(data.get("change_class") or "unclassified")] += 1
        approvers[str(data.get("approver") or "not decided")] += 1
        board.changes_total += 1
    board.changes_by_class = _count_sorted(classes, ("standard", "normal", "emergency", "major"))
    board.changes_by_approver = _count_sorted(
        approvers, ("implementing_team", "it_manager", "cab", "executive_sponsor"))
    return board
