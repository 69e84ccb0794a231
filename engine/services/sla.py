"""The SLA clocks of records, recomputed from their audit trail (engine/slaclock.py does the arithmetic).

Everything a clock depends on is stored: the trail (when elements were entered and left, the targets the SLA
table set), the calendar of the record's service, and the version of the pause table in force when each pause
began. So `clocks_of` gives the same answer whenever it is asked, and `GET /instances/<ref>/sla` shows the
segments and pauses an auditor needs to check it by hand."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import select

from engine import clock, slaclock, worktime
from engine.db.database import Database, UnitOfWork
from engine.db.models import AuditEvent, DecisionVersion, ProcessInstance, ProcessVersion
from engine.diagram import sla_declarations
from engine.diagram.metadata import ProcessMeta
from engine.diagram.sla_declarations import SlaDeclarations
from engine.rules import RulesError
from engine.services import calendars, catalogue, decisions, declared
from engine.services.actors import Actor

_decl_cache: WeakKeyDictionary[Database, dict[int, SlaDeclarations | None]] = WeakKeyDictionary()


def declarations_of(uow: UnitOfWork, version_id: int) -> SlaDeclarations | None:
    """The clocks a deployed version declares (cached: versions are immutable)."""
    per_db = _decl_cache.setdefault(uow.db, {})
    if version_id not in per_db:
        meta = uow.session.execute(select(ProcessVersion.meta_json).where(ProcessVersion.id == version_id)).scalar_one()
        per_db[version_id] = sla_declarations.read(ProcessMeta.from_dict(json.loads(meta)))
    return per_db[version_id]


def versions_with_clocks(uow: UnitOfWork) -> list[int]:
    ids = uow.session.execute(select(ProcessVersion.id)).scalars().all()
    return sorted(v for v in ids if declarations_of(uow, v) is not None)


def trail(uow: UnitOfWork, instance_id: int) -> list[slaclock.TrailEvent]:
    stmt = (select(AuditEvent.at, AuditEvent.type, AuditEvent.element_id, AuditEvent.data_json)
            .where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq))
    return [slaclock.TrailEvent(at, type_, element_id, json.loads(data or "{}"))
            for at, type_, element_id, data in uow.session.execute(stmt)]


def service_calendar(uow: UnitOfWork, version_id: int, data: dict[str, Any]) -> tuple[str | None, str | None,
                                                                                      worktime.WorkCalendar | None]:
    """(service id, calendar id, calendar) of the record's service; no calendar means every hour counts."""
    field = declared.of_version(uow, version_id).service_field or "service"
    raw = data.get(field)
    found = catalogue.find(uow, raw.strip()) if isinstance(raw, str) and raw.strip() else None
    if found is None:
        return (raw if isinstance(raw, str) else None), None, None
    if not found.support_calendar_id:
        return found.id, None, None
    return found.id, found.support_calendar_id, calendars.work_calendar(uow, found.support_calendar_id)


def table_in_force(uow: UnitOfWork, key: str, at: datetime) -> DecisionVersion | None:
    """The version of a decision table in force at `at` (the first one when `at` is before any)."""
    stmt = select(DecisionVersion).where(DecisionVersion.key == key)
    row = uow.session.execute(stmt.where(DecisionVersion.deployed_at <= at)
                              .order_by(DecisionVersion.version.desc()).limit(1)).scalar_one_or_none()
    return row or uow.session.execute(stmt.order_by(DecisionVersion.version).limit(1)).scalar_one_or_none()


def evaluate_at(uow: UnitOfWork, key: str, at: datetime, inputs: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Outputs of the table version in force at `at`, and that version (0: not deployed, no outputs)."""
    row = table_in_force(uow, key, at)
    if row is None:
        return {}, 0
    model = decisions._model(uow, row.id, row.sha256)  # the shared parsed-table cache
    try:
        return dict(model.evaluate(key, inputs, version=row.version).outputs), row.version
    except RulesError:
        return {}, row.version


def pause_rule(uow: UnitOfWork, decl: SlaDeclarations, data: dict[str, Any]) -> slaclock.PauseRule:
    """Whether a pause reason stops a clock, by the pause table in force when the pause began. Without a table
    every declared pause stops every clock."""
    def pauses(reason: str, clock_name: str, at: datetime) -> bool:
        if decl.pause_table is None:
            return True
        outputs, _ = evaluate_at(uow, decl.pause_table, at, {**data, "reason": reason, "clock": clock_name})
        return outputs.get("pause") is True
    return pauses


def compute(uow: UnitOfWork, inst: ProcessInstance, now: datetime | None = None
            ) -> tuple[SlaDeclarations | None, list[slaclock.Clock], dict[str, Any]]:
    """(declarations, clocks, context) of one instance; no clocks when its version declares none."""
    decl = declarations_of(uow, inst.process_version_id)
    if decl is None:
        return None, [], {}
    events = trail(uow, inst.id)
    data = slaclock.replay_data(events)
    service, calendar_id, cal = service_calendar(uow, inst.process_version_id, data)
    result = slaclock.compute(decl, events, cal, pause_rule(uow, decl, data), now or clock.now(), data)
    priority_field = declared.of_version(uow, inst.process_version_id).priority_field
    context = {"service": service, "calendar": calendar_id, "calendar_time_zone": cal.time_zone if cal else None,
               "priority": data.get(priority_field) if priority_field else None, "events": len(events),
               "cal": cal, "trail": events, "data": data}
    return decl, result, context


def clocks_of(uow: UnitOfWork, actor: Actor, ref: str) -> dict[str, Any]:
    """The API view of a record's clocks, with the segments and pauses they are computed from."""
    from engine.services import instances

    inst = instances.find(uow, actor, ref)
    decl, result, ctx = compute(uow, inst)
    now = clock.now()
    return {"business_key": inst.business_key, "process": inst.process_key, "computed_at": now.isoformat(),
            "declared": decl.to_dict() if decl else None,
            "service": ctx.get("service"), "calendar": ctx.get("calendar"),
            "time_zone": ctx.get("calendar_time_zone"), "priority": ctx.get("priority"),
            "trail_events": ctx.get("events", 0), "clocks": [c.to_dict() for c in result]}
