"""What the API reads about tasks, as plain dicts: one unit of work each, so no ORM row reaches web/."""

from __future__ import annotations

from typing import Any

from engine.db.database import Database, unit_of_work
from engine.services import inbox, tasks
from engine.services.actors import Actor
from engine.services.inbox import Filters


def inbox_page(db: Database, actor: Actor, scope: str, filters: Filters, sort: str | None, limit: int,
               cursor: str | None) -> dict[str, Any]:
    """A page of the inbox: `total` counts every match exactly."""
    with unit_of_work(db, readonly=True) as uow:
        got = inbox.page(uow, actor, scope, filters, sort, limit, cursor)
        return {"tasks": [tasks.task_summary(t) for t in got.rows], "total": got.total,
                "next_cursor": got.next_cursor, "sort": got.sort}


def detail(db: Database, actor: Actor, task_id: str) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        return tasks.get(uow, actor, task_id)
