"""Governance cadences: records a process declares to start on a repeating interval (`cadence.<id>`,
engine/diagram/governance.py), started by the worker without anyone clicking (docs/governance.md).

Each occurrence starts once: a notice mark named after the process, cadence and occurrence is written in the same
transaction as the new record, so two workers (or a restarted one) cannot start it twice. Only the latest
occurrence due is started (a worker that was down does not flood the register), and only occurrences after
the version was deployed: a cadence starts counting when its diagram is deployed."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import ProcessInstance, ProcessVersion
from engine.db.models_desk import NoticeMark
from engine.diagram import governance
from engine.diagram.metadata import ProcessMeta
from engine.errors import WriteConflict
from engine.services import declared, instances, messages
from engine.services.actors import Actor

log = logging.getLogger(__name__)


def due(db: Database, now: datetime) -> list[tuple[str, governance.Cadence, datetime]]:
    """(process key, cadence, occurrence) for every cadence whose latest occurrence has not started yet."""
    found = []
    with unit_of_work(db, readonly=True) as uow:
        for key, (version_id, _decl) in declared.latest(uow).items():
            meta_json, deployed_at = uow.session.execute(select(ProcessVersion.meta_json, ProcessVersion.deployed_at)
                                                         .where(ProcessVersion.id == version_id)).one()
            for cadence in governance.read(ProcessMeta.from_dict(json.loads(meta_json))).cadences:
                at = cadence.cycle.last_due(now)
                if at is None or at < deployed_at or uow.session.get(NoticeMark, mark(key, cadence, at)):
                    continue
                found.append((key, cadence, at))
    return found


def overview(uow: UnitOfWork, now: datetime) -> list[dict[str, Any]]:
    """Every declared cadence: its interval, the occurrence last started (and its record), the next one."""
    rows = []
    for key, (version_id, decl) in declared.latest(uow).items():
        meta_json = uow.session.execute(select(ProcessVersion.meta_json).where(ProcessVersion.id == version_id)
                                        ).scalar_one()
        for cadence in governance.read(ProcessMeta.from_dict(json.loads(meta_json))).cadences:
            last = uow.session.execute(select(ProcessInstance.business_key, ProcessInstance.started_at).where(
                ProcessInstance.process_key == key, ProcessInstance.started_by == f"cadence:{cadence.id}")
                .order_by(ProcessInstance.id.desc()).limit(1)).first()
            after = cadence.cycle.last_due(now)
            upcoming = cadence.cycle.start if after is None else _following(cadence.cycle, after)
            rows.append({"process": key, "process_name": decl.name, "cadence": cadence.id, "interval": cadence.text,
                         "starts_with": cadence.data, "last_record": last[0] if last else None,
                         "last_started_at": last[1].isoformat() if last else None,
                         "next_due": upcoming.isoformat() if upcoming else None})
    return rows


def _following(cycle: governance.Cycle, after: datetime) -> datetime | None:
    n = 0
    while n < 100_000 and (cycle.repeats is None or n < cycle.repeats):
        at = cycle.nth(n)
        if at > after:
            return at
        n += 1
    return None


def mark(key: str, cadence: governance.Cadence, at: datetime) -> str:
    return f"cadence:{key}:{cadence.id}:{at.isoformat()}"[:160]


def run(db: Database, now: datetime | None = None) -> list[str]:
    """Starts the records of the cadences due; returns their business keys."""
    when = now or clock.now()
    started = []
    for key, cadence, at in due(db, when):
        actor = Actor(f"cadence:{cadence.id}", frozenset({"requester"}))
        data = {**cadence.data, "cadence": cadence.id, "cadence_due": at.isoformat()}
        try:
            with unit_of_work(db) as uow:
                uow.session.add(NoticeMark(key=mark(key, cadence, at), at=when))
                uow.session.flush()
                outcome = instances.start_in(uow, actor, key, data)
                uow.commit()
        except WriteConflict:
            continue  # another worker started this occurrence first (the notice mark's key is unique)
        except Exception:  # a broken cadence must not stop the worker's other duties
            log.exception("cadence %s of %s could not start", cadence.id, key)
            continue
        messages.deliver_pending(db, outcome.message_ids)
        started.append(outcome.instance.business_key)
    return started
