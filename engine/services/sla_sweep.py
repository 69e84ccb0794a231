"""What the worker does for service-level clocks on each round, without anyone clicking: record near-breach and
breach events in the trail, and walk the escalation levels of the escalation table, telling each level's role.

Each event is recorded once per record and clock (and level): the sweep reads the record's trail before it
writes, so two workers or a restarted one never tell twice. An event carries the instant the clock crossed the
line (`crossed_at`, business time), which may be earlier than the event itself when the worker was down."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import select

from engine import clock, slaclock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import ProcessInstance
from engine.db.models_desk import NoticeMark
from engine.diagram.sla_declarations import SlaDeclarations
from engine.services import audit, notify, sla
from engine.services.audit import NewEvent
from engine.services.notify_kinds import KINDS

log = logging.getLogger(__name__)
LIVE = ("running", "waiting")
ACTOR = "system"
BATCH = 500
RECHECK = timedelta(minutes=15)
# Per database: instance id -> (revision seen, when to look again). In memory: a restarted worker looks at all.
_next_check: WeakKeyDictionary[Database, dict[int, tuple[int, datetime]]] = WeakKeyDictionary()


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


def one(uow: UnitOfWork, inst: ProcessInstance, now: datetime) -> tuple[list[NewEvent], datetime]:
    """The events one record's clocks have earned by `now` and not yet recorded (notifications sent), and when
    the next one can be earned if nothing happens to the record before (a step changes its revision)."""
    decl, clocks, ctx = sla.compute(uow, inst, now)
    upcoming: list[datetime] = [now + RECHECK]
    if decl is None:
        return [], upcoming[0]
    seen, data = _recorded(ctx["trail"]), ctx["data"]
    summary = next((str(data[k]) for k in ("summary", "title") if isinstance(data.get(k), str) and data[k]), "")
    events: list[NewEvent] = []

    def record(type_: str, c: slaclock.Clock, crossed: datetime, **extra: Any) -> None:
        # The mark makes the event unique in the database: a second worker sweeping at the same moment fails
        # its commit instead of recording it twice, and finds it in the trail on its next round.
        uow.session.add(NoticeMark(key=f"sla-event:{inst.id}:{type_}:{c.name}:{extra.get('level', '')}"[:160],
                                   at=now))
        events.append(NewEvent(type_, ACTOR, inst.id, data={
            "clock": c.name, "crossed_at": crossed.isoformat(), "target": c.target, "due_at": _iso(c.due_at),
            "elapsed_seconds": round(c.elapsed_seconds, 3), "state": c.state, **extra}))

    for c in clocks:
        if c.target_seconds is None or c.state == "not_started":
            continue
        if c.state == "running":
            upcoming.extend(at for at in (c.near_breach_at, c.due_at) if at is not None and at > now)
        if c.near_breach_at is not None and c.near_breach_at <= now and ("sla.near_breach", c.name, None) not in seen:
            record("sla.near_breach", c, c.near_breach_at, percent=decl.near_breach_percent)
        if c.breached and c.due_at is not None and ("sla.breached", c.name, None) not in seen:
            record("sla.breached", c, c.due_at)
        if c.state == "stopped":
            continue  # escalating a clock that has stopped helps nobody; its breach is on record
        found, version = levels(uow, decl, c, data)
        for level in found:
            crossed = slaclock.crossing(ctx["cal"], c, level["at_percent"])
            if crossed is not None and crossed > now and c.state == "running":
                upcoming.append(crossed)
            if crossed is None or crossed > now or ("sla.escalated", c.name, level["level"]) in seen:
                continue
            told = _tell(uow, inst, level, c, summary)
            record("sla.escalated", c, crossed, level=level["level"], at_percent=level["at_percent"],
                   role=level["role"], notification=level["notification"], told=told,
                   table=decl.escalation_table, table_version=version)
    return events, min(upcoming)


def sweep(db: Database, now: datetime | None = None) -> int:
    """One round over the open records whose process declares clocks; returns the events recorded.

    A record is looked at again when a step changed it (its revision) or when its next line can be crossed,
    and at least every RECHECK (a calendar or table edited meanwhile); at most BATCH records a round."""
    recorded = 0
    seen = _next_check.setdefault(db, {})
    with unit_of_work(db) as uow:
        versions = sla.versions_with_clocks(uow)
        if not versions:
            return 0
        when = now or clock.now()
        live = uow.session.execute(select(ProcessInstance.id, ProcessInstance.revision).where(
            ProcessInstance.process_version_id.in_(versions), ProcessInstance.status.in_(LIVE))
            .order_by(ProcessInstance.id)).all()
        due = [i for i, rev in live if i not in seen or seen[i][0] != rev or seen[i][1] <= when][:BATCH]
        events: list[NewEvent] = []
        for inst in uow.session.execute(select(ProcessInstance).where(ProcessInstance.id.in_(due))).scalars():
            try:
                with uow.session.begin_nested():
                    earned, check_at = one(uow, inst, when)
                    events.extend(earned)
                    seen[inst.id] = (inst.revision, check_at)
            except Exception:  # one broken record must not stop the others' escalations
                log.exception("SLA sweep of %s failed", inst.business_key)
        if events:
            audit.append(uow, events)
            recorded = len(events)
        uow.commit()
    if len(seen) > 4 * max(len(live), BATCH):
        live_ids = {i for i, _ in live}
        for gone in [i for i in seen if i not in live_ids]:
            del seen[gone]
    return recorded
