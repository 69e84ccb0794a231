"""Blackout periods: times in which no change may run (year-end close, a fundraising gala), for every service
or one. Declared by process owners and admins; every edit is an audit event in the same transaction. The
change calendar flags a change whose window falls in one (engine/services/change_calendar.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.db.catalogue import Service
from engine.db.cmdb import Blackout
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.diagram.forms import parse_instant
from engine.errors import NotFound
from engine.services import audit
from engine.services import catalogue_input as check
from engine.services.actors import Actor
from engine.services.audit import NewEvent
from engine.services.catalogue_access import require_catalogue_admin

FIELDS = {"name", "reason", "service", "starts_at", "ends_at"}


def view(b: Blackout) -> dict[str, Any]:
    return {"id": b.id, "name": b.name, "reason": b.reason, "service": b.service_id,
            "starts_at": b.starts_at.isoformat(), "ends_at": b.ends_at.isoformat(), "created_by": b.created_by}


def list_blackouts(uow: UnitOfWork) -> list[dict[str, Any]]:
    return [view(b) for b in uow.session.execute(select(Blackout).order_by(Blackout.starts_at)).scalars()]


def _row(uow: UnitOfWork, blackout_id: int) -> Blackout:
    found = uow.session.get(Blackout, blackout_id)
    if found is None:
        raise NotFound(f"no blackout {blackout_id}")
    return found


def _instant(body: dict[str, Any], key: str, errors: dict[str, str]) -> datetime | None:
    raw = body.get(key)
    if not isinstance(raw, str) or not raw.strip():
        errors[key] = "is required (a date and time like 2026-12-20T00:00Z)"
        return None
    try:
        return parse_instant(raw.strip())
    except ValueError as exc:
        errors[key] = str(exc)
        return None


def _values(uow: UnitOfWork, body: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    check.refuse_unknown(body, FIELDS)
    merged = {**(before or {}), **body}
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"name": check.text(merged, "name", errors, required=True),
              "reason": check.text(merged, "reason", errors, maxlength=2000),
              "service_id": check.optional_ref(merged, "service", errors),
              "starts_at": _instant(merged, "starts_at", errors), "ends_at": _instant(merged, "ends_at", errors)}
    if values["service_id"] and uow.session.get(Service, values["service_id"]) is None:
        errors["service"] = f"no service {values['service_id']}"
    if values["starts_at"] and values["ends_at"] and values["ends_at"] <= values["starts_at"]:
        errors["ends_at"] = "must be after starts_at"
    check.raise_if(errors)
    return values


def create(db: Database, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    require_catalogue_admin(actor, "declaring a blackout")
    with unit_of_work(db) as uow:
        row = Blackout(**_values(uow, body, None), created_by=actor.username, created_at=clock.now())
        uow.session.add(row)
        uow.session.flush()
        result = view(row)
        audit.append(uow, [NewEvent("catalogue.blackout_created", actor.username, data={"blackout": result})])
        uow.commit()
        return result


def update(db: Database, actor: Actor, blackout_id: int, body: dict[str, Any]) -> dict[str, Any]:
    require_catalogue_admin(actor, "editing a blackout")
    with unit_of_work(db) as uow:
        row = _row(uow, blackout_id)
        before = view(row)
        for key, value in _values(uow, body, before).items():
            setattr(row, key, value)
        uow.session.flush()
        after = view(row)
        changes = {k: {"old": before[k], "new": after[k]} for k in after if before[k] != after[k]}
        if changes:
            audit.append(uow, [NewEvent("catalogue.blackout_updated", actor.username,
                                        data={"blackout": blackout_id, "changes": changes})])
        uow.commit()
        return after


def delete(db: Database, actor: Actor, blackout_id: int) -> None:
    require_catalogue_admin(actor, "deleting a blackout")
    with unit_of_work(db) as uow:
        row = _row(uow, blackout_id)
        gone = view(row)
        uow.session.delete(row)
        uow.session.flush()
        audit.append(uow, [NewEvent("catalogue.blackout_deleted", actor.username, data={"blackout": gone})])
        uow.commit()
