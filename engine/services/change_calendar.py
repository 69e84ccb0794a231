"""The change calendar: the windows records declare (record_window rows, kept by record_index), filtered by
service and CI, and the conflicts of a change's window:

- `overlap`: another open change's window overlaps on the same service, or on a CI both list;
- `outside_maintenance`: the window is not wholly inside the maintenance calendar of a service it touches (its
  own service, and the services its CIs serve);
- `blackout`: the window overlaps a declared blackout period for all services or one it touches.

Only open records conflict (running, waiting or in error): a change that is done, withdrawn or cancelled blocks
no one. The overlap query is one indexed range query (ix_record_window_service_span, ix_record_ci_ci_id)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from engine import worktime
from engine.db.catalogue import Calendar, Service
from engine.db.cmdb import Blackout, CiService, RecordCi, RecordWindow
from engine.db.database import UnitOfWork
from engine.db.models import ProcessInstance
from engine.errors import BadRequest, NotFound
from engine.services import calendars

OPEN = ("running", "waiting", "error")
MAX_RANGE_DAYS = 400


def _cis_of(uow: UnitOfWork, instance_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {i: [] for i in instance_ids}
    if instance_ids:
        for iid, ci in uow.session.execute(select(RecordCi.instance_id, RecordCi.ci_id).where(
                RecordCi.instance_id.in_(instance_ids)).order_by(RecordCi.ci_id)):
            found[iid].append(ci)
    return found


def entry(w: RecordWindow, cis: list[str]) -> dict[str, Any]:
    return {"business_key": w.business_key, "process": w.process_key, "title": w.title, "service": w.service_id,
            "cis": cis, "starts_at": w.starts_at.isoformat(), "ends_at": w.ends_at.isoformat(),
            "approved": w.approved, "status": w.status}


def check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise BadRequest("to must be after from", fields={"to": "must be after from"})
    if (end - start).days > MAX_RANGE_DAYS:
        raise BadRequest(f"at most {MAX_RANGE_DAYS} days at once", fields={"to": "too far from from"})


def entries(uow: UnitOfWork, start: datetime, end: datetime, service: str | None = None,
            ci: str | None = None) -> list[dict[str, Any]]:
    """Windows overlapping [start, end) of records not cancelled, by start."""
    check_range(start, end)
    stmt = select(RecordWindow).where(RecordWindow.starts_at < end, RecordWindow.ends_at > start,
                                      RecordWindow.status != "cancelled")
    if service:
        stmt = stmt.where(or_(RecordWindow.service_id == service, RecordWindow.instance_id.in_(
            select(RecordCi.instance_id).where(RecordCi.ci_id.in_(
                select(CiService.ci_id).where(CiService.service_id == service))))))
    if ci:
        stmt = stmt.where(RecordWindow.instance_id.in_(select(RecordCi.instance_id).where(RecordCi.ci_id == ci)))
    rows = list(uow.session.execute(stmt.order_by(RecordWindow.starts_at, RecordWindow.business_key)).scalars())
    cis = _cis_of(uow, [w.instance_id for w in rows])
    return [entry(w, cis[w.instance_id]) for w in rows]


def window_row(uow: UnitOfWork, business_key: str) -> RecordWindow:
    found = uow.session.execute(select(RecordWindow).join(
        ProcessInstance, ProcessInstance.id == RecordWindow.instance_id).where(
        ProcessInstance.business_key == business_key)).scalar_one_or_none()
    if found is None:
        known = uow.session.execute(select(ProcessInstance.id).where(
            ProcessInstance.business_key == business_key)).first()
        if known is None:
            raise NotFound(f"no record {business_key}")
        raise NotFound(f"{business_key} has no change window yet", fields={"ref": "has no window"})
    return found


def _touched(uow: UnitOfWork, w: RecordWindow) -> list[tuple[str, str, str | None, datetime | None]]:
    """(id, name, maintenance calendar, its updated_at) of the change's own service and the services its CIs
    serve, in one query."""
    via_cis = select(CiService.service_id).where(CiService.ci_id.in_(
        select(RecordCi.ci_id).where(RecordCi.instance_id == w.instance_id)))
    stmt = (select(Service.id, Service.name, Service.maintenance_calendar_id, Calendar.updated_at)
            .outerjoin(Calendar, Calendar.id == Service.maintenance_calendar_id)
            .where(or_(Service.id == w.service_id, Service.id.in_(via_cis)) if w.service_id
                   else Service.id.in_(via_cis))
            .order_by(Service.id))
    return [tuple(r) for r in uow.session.execute(stmt)]  # type: ignore[misc]


def overlaps(uow: UnitOfWork, w: RecordWindow, cis: list[str]) -> list[dict[str, Any]]:
    same = []
    if w.service_id:
        same.append(RecordWindow.service_id == w.service_id)
    if cis:
        same.append(RecordWindow.instance_id.in_(select(RecordCi.instance_id).where(RecordCi.ci_id.in_(cis))))
    if not same:
        return []
    stmt = select(RecordWindow).where(and_(
        RecordWindow.instance_id != w.instance_id, RecordWindow.status.in_(OPEN),
        RecordWindow.starts_at < w.ends_at, RecordWindow.ends_at > w.starts_at, or_(*same)))
    others = list(uow.session.execute(stmt.order_by(RecordWindow.starts_at)).scalars())
    their_cis = _cis_of(uow, [o.instance_id for o in others])
    found = []
    for other in others:
        shared = sorted(set(cis) & set(their_cis[other.instance_id]))
        on = ([f"service {w.service_id}"] if other.service_id == w.service_id and w.service_id else []) + \
             [f"CI {c}" for c in shared]
        found.append({"kind": "overlap", "with": other.business_key, "title": other.title,
                      "service": w.service_id if other.service_id == w.service_id else None, "cis": shared,
                      "starts_at": other.starts_at.isoformat(), "ends_at": other.ends_at.isoformat(),
                      "on": ", ".join(on),
                      "message": f"overlaps {other.business_key} ({other.title}) on {', '.join(on)}"})
    return found


def outside_maintenance(uow: UnitOfWork, w: RecordWindow,
                        touched: list[tuple[str, str, str | None, datetime | None]]) -> list[dict[str, Any]]:
    found = []
    for service_id, name, calendar_id, updated_at in touched:
        if calendar_id is None or updated_at is None:
            continue
        cal = calendars.work_calendar_as_of(uow, calendar_id, updated_at)
        if not worktime.covers(cal, w.starts_at, w.ends_at):
            found.append({"kind": "outside_maintenance", "service": service_id, "calendar": calendar_id,
                          "message": f"the window is not inside the maintenance window of {name} ({calendar_id})"})
    return found


def in_blackouts(uow: UnitOfWork, w: RecordWindow, services: list[str]) -> list[dict[str, Any]]:
    stmt = select(Blackout).where(Blackout.starts_at < w.ends_at, Blackout.ends_at > w.starts_at,
                                  or_(Blackout.service_id.is_(None), Blackout.service_id.in_(services)))
    return [{"kind": "blackout", "blackout": b.id, "name": b.name, "service": b.service_id,
             "starts_at": b.starts_at.isoformat(), "ends_at": b.ends_at.isoformat(),
             "message": f"falls in the blackout {b.name!r}" + (f" for {b.service_id}" if b.service_id else "")}
            for b in uow.session.execute(stmt.order_by(Blackout.starts_at)).scalars()]


def conflicts_of(uow: UnitOfWork, w: RecordWindow, cis: list[str] | None = None) -> list[dict[str, Any]]:
    cis = _cis_of(uow, [w.instance_id])[w.instance_id] if cis is None else cis
    touched = _touched(uow, w)
    services = [t[0] for t in touched]
    return overlaps(uow, w, cis) + outside_maintenance(uow, w, touched) + in_blackouts(uow, w, services)


def conflicts_for(uow: UnitOfWork, business_key: str) -> dict[str, Any]:
    w = window_row(uow, business_key)
    cis = _cis_of(uow, [w.instance_id])[w.instance_id]
    return {**entry(w, cis), "conflicts": conflicts_of(uow, w, cis)}


def conflicts_in(uow: UnitOfWork, start: datetime, end: datetime, service: str | None = None,
                 ci: str | None = None) -> list[dict[str, Any]]:
    """Each open change in the range with its conflicts (only those that have any)."""
    found = []
    for item in entries(uow, start, end, service, ci):
        if item["status"] not in OPEN:
            continue
        checked = conflicts_for(uow, item["business_key"])
        if checked["conflicts"]:
            found.append(checked)
    return found
