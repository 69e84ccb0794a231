"""What the worker does for service-level clocks on each round, without anyone clicking: record near-breach and
breach events in the trail, and walk the escalation levels of the escalation table, telling each level's role.

Each event is recorded once per record and clock (and level): the sweep reads the record's trail before it
writes, so two workers or a restarted one never tell twice. An event carries the instant the clock crossed the
line (`crossed_at`, business time), which may be earlier than the event itself when the worker was down."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import clock, slaclock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import ProcessInstance
from engine.diagram.sla_declarations import SlaDeclarations
from engine.services import audit, notify, sla
from engine.services.audit import NewEvent
from engine.services.notify_kinds import KINDS

log = logging.getLogger(__name__)
LIVE = ("running", "waiting")
ACTOR = "system"
BATCH = 500


def levels(uow: UnitOfWork, decl: SlaDeclarations, c: slaclock.Clock, data: dict[str, Any]
           ) -> tuple[list[dict[str, Any]], int]:
    """The escalation levels of one clock, from the table version in force when the clock started."""
    if decl.escalation_table is None or c.started_at is None:
        return [], 0
    out, version = sla.evaluate_at(uow, decl.escalation_table, c.started_at, {**data, "clock": c.name})
    names = ("level", "at_percent", "role", "notification")
    columns = [out.get(n) if isinstance(out.get(n), list) else [out.get(n)] for n in names]
    found = []
    for level, percent, role, kind in zip(*columns, strict=False):
        if isinstance(percent, int | float) and percent > 0 and level is not None:
            found.append({"level": int(level), "at_percent": percent, "role": role, "notification": kind})
    return sorted(found, key=lambda lv: (lv["at_percent"], lv["level"])), version


def _recorded(trail: list[slaclock.TrailEvent]) -> set[tuple[str, str, int | None]]:
    return {(ev.type, str(ev.data.get("clock")), ev.data.get("level")) for ev in trail if ev.type.startswith("sla.")}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _tell(uow: UnitOfWork, inst: ProcessInstance, level: dict[str, Any], c: slaclock.Clock, summary: str) -> int:
    kind = level["notification"] if level["notification"] in KINDS else "sla_escalated"
    people = notify.holders_of(uow, [str(level["role"])]) if level["role"] else []
    values = {"task": f"the {c.name} target", "business_key": inst.business_key, "summary": summary,
              "due": c.due_at.strftime("%Y-%m-%d %H:%M UTC") if c.due_at else "—", "clock": c.name,
              "level": level["level"], "role": level["role"]}
    return notify.tell(uow, people, kind, values, f"/records/{inst.business_key}",
                       once=f"sla:{inst.id}:{c.name}:{level['level']}")


def one(uow: UnitOfWork, inst: ProcessInstance, now: datetime) -> list[NewEvent]:
    """The events one record's clocks have earned by `now` and not yet recorded (notifications sent)."""
    decl, clocks, ctx = sla.compute(uow, inst, now)
    if decl is None:
        return []
    seen, data = _recorded(ctx["trail"]), ctx["data"]
    summary = next((str(data[k]) for k in ("summary", "title") if isinstance(data.get(k), str) and data[k]), "")
    events: list[NewEvent] = []

    def record(type_: str, c: slaclock.Clock, crossed: datetime, **extra: Any) -> None:
        events.append(NewEvent(type_, ACTOR, inst.id, data={
            "clock": c.name, "crossed_at": crossed.isoformat(), "target": c.target, "due_at": _iso(c.due_at),
            "elapsed_seconds": round(c.elapsed_seconds, 3), "state": c.state, **extra}))

    for c in clocks:
        if c.target_seconds is None or c.state == "not_started":
            continue
        if c.near_breach_at is not None and c.near_breach_at <= now and ("sla.near_breach", c.name, None) not in seen:
            record("sla.near_breach", c, c.near_breach_at, percent=decl.near_breach_percent)
        if c.breached and c.due_at is not None and ("sla.breached", c.name, None) not in seen:
            record("sla.breached", c, c.due_at)
        if c.state == "stopped":
            continue  # escalating a clock that has stopped helps nobody; its breach is on record
        found, version = levels(uow, decl, c, data)
        for level in found:
            crossed = slaclock.crossing(ctx["cal"], c, level["at_percent"])
            if crossed is None or crossed > now or ("sla.escalated", c.name, level["level"]) in seen:
                continue
            told = _tell(uow, inst, level, c, summary)
            record("sla.escalated", c, crossed, level=level["level"], at_percent=level["at_percent"],
                   role=level["role"], notification=level["notification"], told=told,
                   table=decl.escalation_table, table_version=version)
    return events


def sweep(db: Database, now: datetime | None = None) -> int:
    """One round over the open records whose process declares clocks; returns the events recorded."""
    recorded = 0
    with unit_of_work(db) as uow:
        versions = sla.versions_with_clocks(uow)
        if not versions:
            return 0
        when = now or clock.now()
        stmt = (select(ProcessInstance).where(ProcessInstance.process_version_id.in_(versions),
                                              ProcessInstance.status.in_(LIVE))
                .order_by(ProcessInstance.id).limit(BATCH))
        events: list[NewEvent] = []
        for inst in uow.session.execute(stmt).scalars():
            try:
                with uow.session.begin_nested():
                    events.extend(one(uow, inst, when))
            except Exception:  # noqa: BLE001 - one broken record must not stop the others' escalations
                log.exception("SLA sweep of %s failed", inst.business_key)
        if events:
            audit.append(uow, events)
            recorded = len(events)
        uow.commit()
    return recorded

