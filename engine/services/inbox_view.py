"""The inbox page's read model: a page of tasks (engine/services/inbox.py) with each row's record summary and
SLA state, the tabs with their counts, and the choices the filters offer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from engine import clock
from engine.db.database import UnitOfWork
from engine.db.models import HumanTask, ProcessInstance, Role
from engine.services import assign, inbox, policy, reports, tasks
from engine.services.actors import Actor


@dataclass
class InboxView:
    tab: str
    tabs: list[tuple[str, int]]
    rows: list[dict[str, Any]]
    total: int
    sort: str
    next_cursor: str | None
    filters: inbox.Filters
    processes: list[str]
    roles: list[str]
    may_assign: bool


def _summary(data: dict[str, Any]) -> str:
    for key in ("summary", "title", "opportunity"):
        if isinstance(data.get(key), str) and data[key].strip():
            return data[key].strip()
    return ""


def view(uow: UnitOfWork, actor: Actor, tab: str, filters: inbox.Filters, sort: str | None, cursor: str | None,
         limit: int = 50) -> InboxView:
    allowed = policy.tabs(actor)
    got = inbox.page(uow, actor, tab, filters, sort, limit, cursor)
    counts = []
    for name in allowed:
        clause = inbox.task_scope(uow, actor, name)
        counts.append((name, uow.session.execute(select(func.count()).select_from(HumanTask).where(clause))
                       .scalar_one()))
    ids = [t.instance_id for t in got.rows]
    data: dict[int, str] = dict(uow.session.execute(select(ProcessInstance.id, ProcessInstance.data_json)
                                    .where(ProcessInstance.id.in_(ids))).tuples().all()) if ids else {}
    now = clock.now()
    rows = [{**tasks.task_summary(t), "summary": _summary(json.loads(data.get(t.instance_id, "{}"))),
             "sla": reports.sla_state(t.due_at, t.created_at, now), "due": t.due_at, "created": t.created_at}
            for t in got.rows]
    processes = sorted(uow.session.execute(select(HumanTask.process_key).distinct()).scalars())
    roles = sorted(uow.session.execute(select(Role.name)).scalars()) if actor.has(*policy.ALL_TASKS) \
        else sorted(actor.roles)
    return InboxView(tab, counts, rows, got.total, got.sort, got.next_cursor, filters, processes, roles,
                     assign.may_assign(actor))
