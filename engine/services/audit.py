"""The hash-chained audit trail: append (inside the caller's transaction) and verify.

Besides the chain itself, every CHECKPOINT_EVERY events the head is written to the audit_checkpoint table
and, after the transaction commits, to an append-only file outside the database (see docs/audit.md)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.db.database import UnitOfWork
from engine.db.models import AuditCheckpoint, AuditEvent, AuditHead, HumanTask, ProcessVersion

GENESIS = "0" * 64
CHECKPOINT_EVERY = 100
SECRET_MASK = "********"
CHECKPOINT_ENV = "ITSMFLOW_AUDIT_CHECKPOINT_FILE"
DEFAULT_CHECKPOINT_FILE = Path(__file__).resolve().parents[2] / "instance" / "audit-checkpoints.log"
_PENDING = "itsmflow.audit.pending_checkpoints"
log = logging.getLogger(__name__)


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


def at_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_body(seq: int, at: datetime, actor: str, type_: str, instance_id: int | None,
               element_id: str | None, element_name: str | None, data_json: str) -> dict[str, Any]:
    return {
        "seq": seq, "at": at_text(at), "actor": actor, "type": type_, "instance_id": instance_id,
        "element_id": element_id, "element_name": element_name, "data": data_json,
    }


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(body)).encode("utf-8")).hexdigest()


# --- what goes into an event ---------------------------------------------------------------------------
_secret_cache: dict[tuple[Any, ...], frozenset[str]] = {}


def secret_names(session: Session) -> frozenset[str]:
    """Ids of every form field marked secret in any deployed version: masked wherever they appear in the trail
    (form values, gateway inputs, decision inputs, message payloads, start data, administrative edits).
    Versions are immutable, so the set only changes when one is added: one small query per call."""
    # Keyed by what identifies the set of versions, not only the URL: one URL can front several schemas.
    summary = session.execute(select(func.max(ProcessVersion.id), func.count(ProcessVersion.id),
                                     func.max(ProcessVersion.sha256))).one()
    key = (str(session.get_bind().url), *summary)
    hit = _secret_cache.get(key)
    if hit is not None:
        return hit
    names: set[str] = set()
    for (meta_json,) in session.execute(select(ProcessVersion.meta_json)).all():
        meta = json.loads(meta_json)
        names.update(f["id"] for el in meta.get("elements", {}).values() for f in el.get("form", [])
                     if f.get("secret"))
    if len(_secret_cache) > 256:
        _secret_cache.clear()
    _secret_cache[key] = frozenset(names)
    return _secret_cache[key]


def mask_secrets(value: Any, secrets: frozenset[str]) -> Any:
    if not secrets:
        return value
    if isinstance(value, dict):
        return {k: (SECRET_MASK if k in secrets and v is not None else mask_secrets(v, secrets))
                for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v, secrets) for v in value]
    return value


def _with_due(session: Session, ev: NewEvent) -> dict[str, Any]:
    """task.ready carries the task's due time (from its boundary timers), so conformance can judge SLAs later."""
    if ev.type != "task.ready" or "due_at" in ev.data or not ev.data.get("task_id"):
        return ev.data
    task = session.get(HumanTask, ev.data["task_id"])
    due = task.due_at if task is not None else None
    return {**ev.data, "due_at": at_text(due) if due is not None else None}


def append(uow: UnitOfWork, events: list[NewEvent], secrets: frozenset[str] | None = None) -> list[dict[str, Any]]:
    """Adds events at the head of the chain. Call last in a transaction: the head lock is held until commit.
    Rows go in with one multi-row INSERT (Core, not ORM objects): this runs on every step."""
    if not events:
        return []
    session = uow.session
    head_seq, head_hash = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()).one()
    if secrets is None:  # not one instance's step: mask what any deployed version calls secret
        secrets = secret_names(session)
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for ev in events:
        seq = head_seq + 1
        data_json = canonical(mask_secrets(_with_due(session, ev), secrets))
        body = event_body(seq, now, ev.actor, ev.type, ev.instance_id, ev.element_id, ev.element_name, data_json)
        digest = chain_hash(head_hash, body)
        rows.append({"seq": seq, "instance_id": ev.instance_id, "at": now, "actor": ev.actor, "type": ev.type,
                     "element_id": ev.element_id, "element_name": ev.element_name, "data_json": data_json,
                     "prev_hash": head_hash, "hash": digest})
        head_seq, head_hash = seq, digest
        if seq % CHECKPOINT_EVERY == 0:
            _checkpoint(session, seq, digest, now, rows)
    session.execute(insert(AuditEvent.__table__), rows)  # Core: one executemany, whatever keys are None
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=head_seq, hash=head_hash))
    return rows


# --- checkpoints, in the database and in a file outside it ---------------------------------------------
def checkpoint_file() -> Path | None:
    """ITSMFLOW_AUDIT_CHECKPOINT_FILE, else instance/audit-checkpoints.log; "" or "off" switches it off."""
    value = os.environ.get(CHECKPOINT_ENV)
    if value is None:
        return DEFAULT_CHECKPOINT_FILE
    if value.strip().lower() in ("", "off", "none"):
        return None
    return Path(value.strip())


def _chain_id(session: Session, batch: list[dict[str, Any]]) -> str | None:
    """A chain is named by the hash of its first event: one file can serve (or outlive) several databases."""
    for row in batch:
        if row["seq"] == 1:
            return row["hash"]
    return session.execute(select(AuditEvent.hash).where(AuditEvent.seq == 1)).scalar_one_or_none()


def _checkpoint(session: Session, seq: int, digest: str, at: datetime, batch: list[dict[str, Any]]) -> None:
    session.add(AuditCheckpoint(seq=seq, hash=digest, at=at))
    path = checkpoint_file()
    if path is None:
        return
    line = {"chain": _chain_id(session, batch), "seq": seq, "hash": digest, "at": at_text(at)}
    pending = session.info.setdefault(_PENDING, [])
    pending.append((path, line))
    if len(pending) == 1 and not sa_event.contains(session, "after_commit", _write_pending):
        sa_event.listen(session, "after_commit", _write_pending)
        sa_event.listen(session, "after_rollback", _drop_pending)


def _write_pending(session: Session) -> None:
    """After commit only: a rolled-back step must never leave a checkpoint the chain does not have."""
    pending = session.info.pop(_PENDING, [])
    for path, line in pending:
        try:
            append_line(path, canonical(line))
        except OSError as exc:  # the commit stands; the missing line only narrows what the file can prove
            log.error("could not write audit checkpoint %s to %s: %s", line["seq"], path, exc)


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def append_line(path: Path, text: str) -> None:
    """One write(2) with O_APPEND: concurrent writers never interleave within a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (text + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def write_checkpoint(uow: UnitOfWork) -> dict[str, Any] | None:
    """Records the current head now (e.g. at the end of each day from cron). The caller commits."""
    session = uow.session
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    if head.seq == 0:
        return None
    now = clock.now()
    _checkpoint(session, head.seq, head.hash, now, [])
    session.flush()
    return {"seq": head.seq, "hash": head.hash, "at": at_text(now)}


def read_checkpoint_file(path: Path | str) -> list[dict[str, Any]]:
    """The file's lines; an unreadable line is returned as {"error": ...} so verification can name it."""
    entries: list[dict[str, Any]] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                entry = json.loads(text)
                if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int):
                    raise ValueError("not a checkpoint")
                entries.append({**entry, "line": number})
            except ValueError:
                entries.append({"error": f"line {number} of the checkpoint file is not a checkpoint", "line": number})
    return entries


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


def verify_rows(rows: list[dict[str, Any]], prev: str = GENESIS, first_seq: int = 1) -> Verification:
    """Checks a sequence of exported or stored events; each dict has the event_body keys plus prev_hash/hash.
    A slice of the chain is checked from its anchor: the prev_hash of its first event and that event's seq."""
    expected_seq = first_seq
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


def check_against_checkpoints(by_seq: dict[int, str], last_seq: int, entries: list[dict[str, Any]],
                              chain: str | None, events: int, strict: bool = True) -> Verification | None:
    """Compares checkpoints held outside the database with the chain; None when they agree.

    Entries name their chain by the hash of its first event. strict: the file belongs to this database, so an
    entry of another chain means the chain was rebuilt from scratch. Not strict: such entries are skipped
    (a file shared by several databases, e.g. test runs)."""
    for entry in sorted(entries, key=lambda e: (e.get("seq", 0), e["line"])):
        if "error" in entry:
            return Verification(False, events, None, entry["error"])
        seq = entry["seq"]
        if entry.get("chain") != chain:
            if not strict:
                continue
            return Verification(False, events, 1 if chain else None,
                                f"the checkpoint file records seq {seq} of another chain (first event "
                                f"{str(entry.get('chain'))[:12]}...): the chain was rebuilt or the file is not "
                                "this database's")
        if seq > last_seq:
            return Verification(False, events, last_seq + 1,
                                f"the chain ends at {last_seq} but the checkpoint file records seq {seq} "
                                "(tail truncated)")
        if by_seq.get(seq) != entry.get("hash"):
            return Verification(False, events, seq, f"checkpoint file entry for {seq} does not match the chain")
    return None


def verify(uow: UnitOfWork, checkpoints: Path | str | None = None, strict: bool = True) -> Verification:
    """Checks the stored chain, its head row and checkpoint table; with `checkpoints` (the file kept outside
    the database) also finds a tail cut off together with the head row and the checkpoint table."""
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
        if cp.seq > last_seq:
            return Verification(False, len(rows), last_seq + 1,
                                f"the chain ends at {last_seq} but a checkpoint records {cp.seq} (tail truncated)")
        if by_seq.get(cp.seq) != cp.hash:
            return Verification(False, len(rows), cp.seq, f"checkpoint at {cp.seq} does not match the chain")
    if checkpoints is not None and Path(checkpoints).exists():
        chain = rows[0]["hash"] if rows else None
        found = check_against_checkpoints(by_seq, last_seq, read_checkpoint_file(checkpoints), chain, len(rows),
                                          strict)
        if found is not None:
            return found
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
