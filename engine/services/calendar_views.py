"""What the change calendar's API and page read (windows, conflicts, a record's impact), as plain data: one unit
of work each, so no session reaches web/."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.db.database import Database, unit_of_work
from engine.services import catalogue, change_calendar, cmdb, impact, policy
from engine.services.actors import Actor


def entries(db: Database, actor: Actor, start: datetime, end: datetime, service: str | None = None,
            ci: str | None = None) -> list[dict[str, Any]]:
    """The windows in the range of the records the actor may see, if the policy lets them see the calendar."""
    policy.require(actor, "change_calendar")
    with unit_of_work(db, readonly=True) as uow:
        return change_calendar.entries(uow, start, end, service, ci, actor=actor)


def conflicts_for(db: Database, business_key: str) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        return change_calendar.conflicts_for(uow, business_key)


def conflicts_in(db: Database, actor: Actor, start: datetime, end: datetime, service: str | None = None,
                 ci: str | None = None) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return change_calendar.conflicts_in(uow, start, end, service, ci, actor=actor)


def impact_for(db: Database, actor: Actor, business_key: str) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        return impact.impact_for(uow, actor, business_key)


def calendar_page(db: Database, actor: Actor, start: datetime, end: datetime, service: str | None = None,
                  ci: str | None = None) -> dict[str, Any]:
    """The calendar page's data: the windows in the range, the conflicts of those that have any (by business
    key), and the filters' options."""
    with unit_of_work(db, readonly=True) as uow:
        return {"items": change_calendar.entries(uow, start, end, service, ci, actor=actor),
                "flagged": {c["business_key"]: c["conflicts"]
                            for c in change_calendar.conflicts_in(uow, start, end, service, ci, actor=actor)},
                "services": catalogue.list_services(uow, include_retired=True),
                "cis": cmdb.list_items(uow, include_retired=True)}
