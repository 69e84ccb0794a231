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

from sqlalchemy import or_, select

from engine.db.cmdb import CiService, RecordCi, RecordWindow
from engine.db.database import UnitOfWork
from engine.db.models import ProcessInstance
from engine.errors import BadRequest
from engine.services import conflict_check, policy
from engine.services.actors import Actor

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
            ci: str | None = None, actor: Actor | None = None) -> list[dict[str, Any]]:
    """Windows overlapping [start, end) of records not cancelled, by start; of the records `actor` may see when
    given (engine/services/policy.py)."""
    check_range(start, end)
    stmt = select(RecordWindow).where(RecordWindow.starts_at < end, RecordWindow.ends_at > start,
                                      RecordWindow.status != "cancelled")
    if actor is not None and not policy.sees_all(actor):
        stmt = stmt.where(RecordWindow.instance_id.in_(
            select(ProcessInstance.id).where(policy.visible_records(uow, actor))))
    if service:
        stmt = stmt.where(or_(RecordWindow.service_id == service, RecordWindow.instance_id.in_(
            select(RecordCi.instance_id).where(RecordCi.ci_id.in_(
                select(CiService.ci_id).where(CiService.service_id == service))))))
    if ci:
        stmt = stmt.where(RecordWindow.instance_id.in_(select(RecordCi.instance_id).where(RecordCi.ci_id == ci)))
    rows = list(uow.session.execute(stmt.order_by(RecordWindow.starts_at, RecordWindow.business_key)).scalars())
    cis = _cis_of(uow, [w.instance_id for w in rows])
    return [entry(w, cis[w.instance_id]) for w in rows]


def conflicts_for(uow: UnitOfWork, business_key: str) -> dict[str, Any]:
    """The change's calendar entry with its conflicts (engine/services/conflict_check.py: one query)."""
    return conflict_check.for_record(uow, business_key)


def conflicts_in(uow: UnitOfWork, start: datetime, end: datetime, service: str | None = None,
                 ci: str | None = None, actor: Actor | None = None) -> list[dict[str, Any]]:
    """Each open change in the range with its conflicts (only those that have any; those `actor` may see)."""
    found = []
    for item in entries(uow, start, end, service, ci, actor=actor):
        if item["status"] not in OPEN:
            continue
        checked = conflicts_for(uow, item["business_key"])
        if checked["conflicts"]:
            found.append(checked)
    return found
