"""The hash-chained audit trail: append (inside the caller's transaction) and verify."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.db.database import UnitOfWork
from engine.db.models import AuditCheckpoint, AuditEvent, AuditHead

GENESIS = "0" * 64
CHECKPOINT_EVERY = 100
SECRET_MASK = "********"


@dataclass
class NewEvent:
    type: str
    actor: str
    instance_id: int | None = None
    element_id: str | None = None
    element_name: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _at_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_body(seq: int, at: datetime, actor: str, type_: str, instance_id: int | None,
               element_id: str | None, element_name: str | None, data_json: str) -> dict[str, Any]:
    return {
        "seq": seq, "at": _at_text(at), "actor": actor, "type": type_, "instance_id": instance_id,
        "element_id": element_id, "element_name": element_name, "data": data_json,
    }


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(body)).encode("utf-8")).hexdigest()


def append(uow: UnitOfWork, events: list[NewEvent]) -> list[AuditEvent]:
    """Adds events at the head of the chain. Call last in a transaction: the head lock is held until commit."""
    if not events:
        return []
    session = uow.session
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    now = clock.now()
    rows = []
    for ev in events:
        seq = head.seq + 1
        data_json = canonical(ev.data)
        body = event_body(seq, now, ev.actor, ev.type, ev.instance_id, ev.element_id, ev.element_name, data_json)
        digest = chain_hash(head.hash, body)
        row = AuditEvent(
            seq=seq, instance_id=ev.instance_id, at=now, actor=ev.actor, type=ev.type, element_id=ev.element_id,
            element_name=ev.element_name, data_json=data_json, prev_hash=head.hash, hash=digest,
        )
        session.add(row)
        rows.append(row)
        head.seq, head.hash = seq, digest
        if seq % CHECKPOINT_EVERY == 0:
            session.add(AuditCheckpoint(seq=seq, hash=digest, at=now))
    session.flush()
    return rows


@dataclass
class Verification:
    ok: bool
    events: int
    first_bad_seq: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.ok:
            return {"ok": True, "events": self.events}
        return {"ok": False, "events": self.events, "first_bad_seq": self.first_bad_seq, "reason": self.reason}


def verify_rows(rows: list[dict[str, Any]]) -> Verification:
    """Checks a sequence of exported or stored events; each dict has the event_body keys plus prev_hash/hash."""
    prev, expected_seq = GENESIS, 1
    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            return Verification(False, len(rows), expected_seq,
                                f"sequence jumps from {expected_seq - 1} to {seq} (row deleted or inserted)")
        if row["prev_hash"] != prev:
            return Verification(False, len(rows), seq, "prev_hash does not match the previous event's hash")
        body = {k: row[k] for k in ("seq", "at", "actor", "type", "instance_id", "element_id", "element_name", "data")}
        if chain_hash(prev, body) != row["hash"]:
            return Verification(False, len(rows), seq, "hash does not match the event's content (edited)")
        prev, expected_seq = row["hash"], seq + 1
    return Verification(True, len(rows))


def stored_row(ev: AuditEvent) -> dict[str, Any]:
    body = event_body(ev.seq, ev.at, ev.actor, ev.type, ev.instance_id, ev.element_id, ev.element_name,
                      ev.data_json)
    return {**body, "prev_hash": ev.prev_hash, "hash": ev.hash}


def verify(uow: UnitOfWork) -> Verification:
    session = uow.session
    rows = [stored_row(ev) for ev in session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()]
    result = verify_rows(rows)
    if not result.ok:
        return result
    head = session.get(AuditHead, 1)
    last_seq = rows[-1]["seq"] if rows else 0
    last_hash = rows[-1]["hash"] if rows else GENESIS
    if head is not None and (head.seq != last_seq or head.hash != last_hash):
        return Verification(False, len(rows), last_seq + 1,
                            f"the chain ends at {last_seq} but its head says {head.seq} (tail truncated)")
    by_seq = {r["seq"]: r["hash"] for r in rows}
    for cp in session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)).scalars():
        if by_seq.get(cp.seq) != cp.hash:
            return Verification(False, len(rows), cp.seq, f"checkpoint at {cp.seq} does not match the chain")
    return result


def instance_events(uow: UnitOfWork, instance_id: int) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq)
    return list(uow.session.execute(stmt).scalars())


def event_view(ev: AuditEvent) -> dict[str, Any]:
    return {
        "seq": ev.seq, "at": ev.at.isoformat(), "actor": ev.actor, "type": ev.type, "element_id": ev.element_id,
        "element_name": ev.element_name, "data": json.loads(ev.data_json), "prev_hash": ev.prev_hash,
        "hash": ev.hash, "instance_id": ev.instance_id,
    }
