"""Retention: a finished instance's engine state is dropped once nobody can resume it any more.

What stays: the instance row with its data, business key and status, and every audit event (the path view is
computed from the trail, never from the engine state). What goes: `state_json`, replaced by a small marker
holding the digest and size of what was dropped. An `instance.archived` event records each one."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.db.database import Database, unit_of_work
from engine.db.models import ProcessInstance
from engine.errors import BadRequest
from engine.services import audit, policy
from engine.services.actors import Actor
from engine.services.audit import NewEvent

FINISHED = ("completed", "cancelled")
MARKER_KEY = "archived"
BATCH = 100


@dataclass
class ArchiveResult:
    archived: list[str] = field(default_factory=list)
    bytes_freed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"archived": self.archived, "count": len(self.archived), "bytes_freed": self.bytes_freed}


def is_archived(inst: ProcessInstance) -> bool:
    return inst.state_json.startswith('{"' + MARKER_KEY + '"')


def marker(state_json: str, at: datetime) -> dict[str, Any]:
    return {MARKER_KEY: True, "at": at.isoformat(), "state_sha256": hashlib.sha256(state_json.encode()).hexdigest(),
            "state_bytes": len(state_json.encode())}


def archive(db: Database, actor: Actor, before: datetime, limit: int | None = None) -> ArchiveResult:
    """Archives completed and cancelled instances that ended before `before`, BATCH per transaction."""
    policy.require(actor, "administer")
    if before.tzinfo is None:
        raise BadRequest("the cut-off needs a time zone")
    if before > clock.now():
        raise BadRequest("the cut-off is in the future")
    result = ArchiveResult()
    after = 0
    while limit is None or len(result.archived) < limit:
        size = BATCH if limit is None else min(BATCH, limit - len(result.archived))
        with unit_of_work(db) as uow:
            stmt = (select(ProcessInstance)
                    .where(ProcessInstance.status.in_(FINISHED), ProcessInstance.ended_at < before,
                           ProcessInstance.id > after, ~ProcessInstance.state_json.startswith(f'{{"{MARKER_KEY}"'))
                    .order_by(ProcessInstance.id).limit(size))
            if uow.is_postgres:
                stmt = stmt.with_for_update(skip_locked=True)
            batch = list(uow.session.execute(stmt).scalars())
            if not batch:
                break
            events = []
            now = clock.now()
            for inst in batch:
                mark = marker(inst.state_json, now)
                inst.state_json = json.dumps(mark, separators=(",", ":"))
                result.bytes_freed += mark["state_bytes"]
                events.append(NewEvent("instance.archived", actor.username, inst.id, data={
                    "business_key": inst.business_key, "status": inst.status, "before": before.isoformat(),
                    "state_sha256": mark["state_sha256"], "state_bytes": mark["state_bytes"]}))
                result.archived.append(inst.business_key)
            uow.session.flush()
            audit.append(uow, events)
            uow.commit()
            after = batch[-1].id
    return result
