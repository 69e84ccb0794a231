"""What the staff and requester pages read, as plain data (dicts and dataclasses): one unit of work each, so no
ORM row or session reaches web/."""

from __future__ import annotations

from typing import Any

from engine.db.database import Database, unit_of_work
from engine.errors import BadRequest
from engine.services import dashboard, dashboard_drill, inbox, inbox_view, mail_in, self_service, starting
from engine.services.actors import Actor
from engine.services.starting import Option


def held_mail(db: Database, actor: Actor) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return mail_in.held(uow, actor)


def my_records(db: Database, actor: Actor) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return self_service.overview(uow, actor)


def my_record(db: Database, actor: Actor, ref: str) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        return self_service.record(uow, actor, ref)


def measures(db: Database, actor: Actor, period: dashboard.Period) -> dashboard.Dashboard:
    with unit_of_work(db, readonly=True) as uow:
        return dashboard.dashboard(uow, actor, period)


def records_behind(db: Database, actor: Actor, period: dashboard.Period, figure: str) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return dashboard_drill.records_behind(uow, actor, period, figure)


def start_options(db: Database, actor: Actor) -> list[Option]:
    with unit_of_work(db, readonly=True) as uow:
        return starting.options(uow, actor)


def inbox_page(db: Database, actor: Actor, tab: str, filters: inbox.Filters | None, sort: str | None,
               cursor: str | None) -> tuple[inbox_view.InboxView, list[Option], str | None]:
    """A tab of the inbox and the start options; bad filters are said (third value) and the tab shown unfiltered
    (as it is when `filters` is None: the caller could not read them)."""
    with unit_of_work(db, readonly=True) as uow:
        box, problem = None, None
        if filters is not None:
            try:
                box = inbox_view.view(uow, actor, tab, filters, sort, cursor)
            except BadRequest as exc:
                problem = exc.message
        if box is None:
            box = inbox_view.view(uow, actor, tab, inbox.Filters(), None, None)
        return box, starting.options(uow, actor), problem
