"""What the API reads about records (process instances), as plain dicts. Each function opens its own unit of
work, so no ORM row or session reaches web/: the acts that change a record answer the record as it was saved."""

from __future__ import annotations

from typing import Any

from engine.db.database import Database, unit_of_work
from engine.db.models import ProcessInstance
from engine.errors import NotFound
from engine.services import admin, audit, instances, sla, starting
from engine.services.actors import Actor


def _saved(db: Database, instance_id: int) -> dict[str, Any]:
    """The record an act just saved, read back in a fresh transaction (the act's own rows are detached)."""
    with unit_of_work(db, readonly=True) as uow:
        inst = uow.session.get(ProcessInstance, instance_id)
        if inst is None:
            raise NotFound(f"no instance {instance_id}")
        return instances.view(uow, inst)


def started(db: Database, actor: Actor, process: str, data: dict[str, Any]) -> dict[str, Any]:
    return instances.start_view(db, actor, process, data)


def cancelled(db: Database, actor: Actor, ref: str, reason: str) -> dict[str, Any]:
    return _saved(db, instances.cancel(db, actor, ref, reason).id)


def retried(db: Database, actor: Actor, ref: str, reason: str) -> dict[str, Any]:
    return _saved(db, instances.retry(db, actor, ref, reason).id)


def data_edited(db: Database, actor: Actor, ref: str, changes: Any, reason: Any) -> dict[str, Any]:
    return _saved(db, admin.edit_data(db, actor, ref, changes, reason).id)


def page(db: Database, actor: Actor, process: str | None, status: str | None, q: str | None, limit: int,
         cursor: int | None) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        rows, next_cursor = instances.list_instances(uow, actor, process, status, q, limit, cursor)
        return {"instances": [instances.view(uow, r, with_tasks=False) for r in rows], "next_cursor": next_cursor}


def detail(db: Database, actor: Actor, ref: str) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        inst = instances.find(uow, actor, ref)
        return {**instances.view(uow, inst), "related": instances.related(uow, inst)}


def path(db: Database, actor: Actor, ref: str) -> dict[str, list[str]]:
    with unit_of_work(db, readonly=True) as uow:
        return instances.path(uow, instances.find(uow, actor, ref))


def trail(db: Database, actor: Actor, ref: str) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        inst = instances.find(uow, actor, ref)
        return [audit.event_view(e) for e in audit.instance_events(uow, inst.id)]


def clocks(db: Database, actor: Actor, ref: str) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        return sla.clocks_of(uow, actor, ref)


def start_options(db: Database, actor: Actor) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return [o.to_dict() for o in starting.options(uow, actor)]
