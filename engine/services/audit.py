"""The hash-chained audit trail: append (inside the caller's transaction) and verify.

Events are chained per partition (engine/services/audit_chains.py): a step locks only its own chain's head.
The heads of all chains are anchored every so often by the checkpoint chain, whose hashes also go, after the
transaction commits, to an append-only file outside the database (see docs/audit.md). Events written before
the partitions (chain NULL) stay one global chain, checked as before with its head row and checkpoints."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from engine import clock
from engine.db.database import UnitOfWork
from engine.db.driver import Prepared
from engine.db.models import AuditChain, AuditCheckpoint, AuditEvent, AuditHead, HumanTask, table_of
from engine.services import audit_chains, audit_secrets
from engine.services.audit_secrets import SECRET_MASK as SECRET_MASK
from engine.services.audit_secrets import mask_secrets as mask_secrets
from engine.services.audit_secrets import secret_names as secret_names

GENESIS = "0" * 64
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


# One encoder, built once: json.dumps with options builds a new one on every call.
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode


def canonical(value: Any) -> str:
    return _canonical(value)


def at_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _body_keys(seq: int, at: str, actor: str, type_: str, instance_id: int | None, element_id: str | None,
               element_name: str | None, data_json: str) -> dict[str, Any]:
    return {"seq": seq, "at": at, "actor": actor, "type": type_, "instance_id": instance_id,
            "element_id": element_id, "element_name": element_name, "data": data_json}


def event_body(seq: int, at: datetime, actor: str, type_: str, instance_id: int | None,
               element_id: str | None, element_name: str | None, data_json: str,
               chain: int | None = None, n: int | None = None) -> dict[str, Any]:
    """What an event's hash covers; a partitioned event also covers its chain and position in it."""
    body = _body_keys(seq, at_text(at), actor, type_, instance_id, element_id, element_name, data_json)
    if chain is not None:
        body.update(chain=chain, n=n)
    return body


BODY_KEYS = ("seq", "at", "actor", "type", "instance_id", "element_id", "element_name", "data")


def body_of(row: dict[str, Any]) -> dict[str, Any]:
    """The hashed body of a stored or exported row (exports may carry more columns)."""
    body = {k: row[k] for k in BODY_KEYS}
    if is_chained(row):
        body.update(chain=int(row["chain"]), n=int(row["n"]))
    return body


def is_chained(row: dict[str, Any]) -> bool:
    return row.get("chain") not in (None, "")


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(body)).encode("utf-8")).hexdigest()


# --- what goes into an event ---------------------------------------------------------------------------
_EVENT_TABLE = table_of(AuditEvent)
_INSERT_EVENTS = Prepared(insert(_EVENT_TABLE).values({c.key: bindparam(c.key) for c in _EVENT_TABLE.c}))
_CHAINS = table_of(AuditChain)
_UPDATE_HEAD = Prepared(update(_CHAINS).where(_CHAINS.c.id == bindparam("k"))
                        .values(seq=bindparam("n"), hash=bindparam("h")))
_text = json.encoder.encode_basestring  # what canonical() writes for a str (ensure_ascii=False)


def event_hash(prev_hash: str, seq: int, at: str, actor: str, type_: str, instance_id: int | None,
               element_id: str | None, element_name: str | None, data_json: str, chain: int, n: int) -> str:
    """chain_hash(prev_hash, event_body(...)) of a partitioned event, with `at` already as at_text: the same
    text canonical() writes (its sorted keys, its spelling of each value), written out directly because it is
    done for every event of every step. Values of another type than declared take canonical() itself."""
    if not (type(seq) is int and type(chain) is int and type(n) is int and type(actor) is str
            and type(type_) is str and (instance_id is None or type(instance_id) is int)
            and (element_id is None or type(element_id) is str)
            and (element_name is None or type(element_name) is str)):
        return chain_hash(prev_hash, {**_body_keys(seq, at, actor, type_, instance_id, element_id, element_name,
                                                   data_json), "chain": chain, "n": n})
    text = (f'{prev_hash}{{"actor":{_text(actor)},"at":{_text(at)},"chain":{chain},"data":{_text(data_json)},'
            f'"element_id":{"null" if element_id is None else _text(element_id)},'
            f'"element_name":{"null" if element_name is None else _text(element_name)},'
            f'"instance_id":{"null" if instance_id is None else instance_id},"n":{n},"seq":{seq},'
            f'"type":{_text(type_)}}}')
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _with_due(session: Session, ev: NewEvent) -> dict[str, Any]:
    """task.ready carries the task's due time (from its boundary timers), so conformance can judge SLAs later."""
    if ev.type != "task.ready" or "due_at" in ev.data or not ev.data.get("task_id"):
        return ev.data
    task = session.get(HumanTask, ev.data["task_id"])
    due = task.due_at if task is not None else None
    return {**ev.data, "due_at": at_text(due) if due is not None else None}


def append(uow: UnitOfWork, events: list[NewEvent], secrets: frozenset[str] | None = None) -> None:
    """Adds events at the heads of their chains (by instance). Call last in a transaction: a chain's head is
    locked until commit, and only that chain's. Three statements for a step's events (its instance's chain), on
    the driver's cursor: lock the head and take the event numbers, insert the events, update the head.
    secrets None: not one instance's step; masks what any deployed version calls secret (audit_secrets)."""
    if not events:
        return
    session = uow.session
    now = clock.now()
    at = at_text(now)
    groups: dict[int, list[NewEvent]] = {}
    for ev in events:
        groups.setdefault(audit_chains.chain_of(ev.instance_id), []).append(ev)
    rows: list[dict[str, Any]] = []
    heads: list[dict[str, Any]] = []
    taken = 0
    for chain in sorted(groups):  # always in the same order: two writers never wait on each other in a circle
        batch = groups[chain]
        n, prev, seqs, versions = audit_chains.lock_head(uow, chain, len(batch), versions=secrets is None)
        if versions is not None:
            secrets = audit_secrets.of_versions(session, uow.db.engine, versions)
        if not uow.is_postgres:
            seqs = [s + taken for s in seqs]  # this call's rows of earlier chains are not inserted yet
            taken += len(batch)
        for ev, seq in zip(batch, seqs, strict=True):
            n += 1
            data_json = canonical(mask_secrets(_with_due(session, ev), secrets or frozenset()))
            digest = event_hash(prev, seq, at, ev.actor, ev.type, ev.instance_id, ev.element_id, ev.element_name,
                                data_json, chain, n)
            rows.append({"seq": seq, "chain": chain, "chain_seq": n, "instance_id": ev.instance_id,
                         "actor": ev.actor, "type": ev.type, "element_id": ev.element_id,
                         "element_name": ev.element_name, "data_json": data_json, "prev_hash": prev,
                         "hash": digest})
            prev = digest
        heads.append({"k": chain, "n": n, "h": prev})
    _INSERT_EVENTS.execute_many(uow, rows, shared={"at": now})  # one time for all: converted once
    if len(heads) == 1:
        _UPDATE_HEAD.execute(uow, heads[0])
    else:
        _UPDATE_HEAD.execute_many(uow, heads)


# --- checkpoints, in the database and in a file outside it ---------------------------------------------
def checkpoint_file() -> Path | None:
    """ITSMFLOW_AUDIT_CHECKPOINT_FILE, else instance/audit-checkpoints.log; "" or "off" switches it off."""
    value = os.environ.get(CHECKPOINT_ENV)
    if value is None:
        return DEFAULT_CHECKPOINT_FILE
    if value.strip().lower() in ("", "off", "none"):
        return None
    return Path(value.strip())


def _legacy_chain_id(session: Session) -> str | None:
    """The trail before the partitions is named by the hash of its first event."""
    return session.execute(select(AuditEvent.hash).where(AuditEvent.seq == 1, AuditEvent.chain.is_(None))
                           ).scalar_one_or_none()


def after_commit_line(session: Session, line: dict[str, Any]) -> None:
    """Queues a line for the checkpoint file, written once the transaction commits (never on rollback)."""
    path = checkpoint_file()
    if path is None:
        return
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
            log.error("could not write audit checkpoint %s to %s: %s", line, path, exc)


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
    """Anchors the heads of all chains now (e.g. at the end of each day from cron; the worker also does it
    every ITSMFLOW_AUDIT_ANCHOR_SECONDS). The caller commits."""
    return audit_chains.write_anchor(uow, force=True)


def read_checkpoint_file(path: Path | str) -> list[dict[str, Any]]:
    """The file's lines; an unreadable line is returned as {"error": ...} so verification can name it."""
    entries: list[dict[str, Any]] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                entry = json.loads(text)
                if not isinstance(entry, dict) or not (isinstance(entry.get("seq"), int)
                                                       or isinstance(entry.get("anchor"), int)):
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


def verify_rows(rows: list[dict[str, Any]], prev: str = GENESIS, first_seq: int = 1,
                chains: dict[int, tuple[int, str]] | None = None) -> Verification:
    """Checks exported or stored events (each dict has the event_body keys plus prev_hash/hash). Events of the
    trail before the partitions (no chain) form one chain by seq, checked from `prev` and `first_seq`; the
    others are checked chain by chain, each from its start or from `chains` (chain -> (first position,
    prev_hash of that event)) for a slice."""
    legacy = [r for r in rows if not is_chained(r)]
    found = _verify_legacy(legacy, prev, first_seq)
    if found is not None:
        return Verification(False, len(rows), *found)
    _ends, problem = audit_chains.verify_chained([r for r in rows if is_chained(r)], chains)
    if problem is not None:
        return Verification(False, len(rows), *problem)
    return Verification(True, len(rows))


def _verify_legacy(rows: list[dict[str, Any]], prev: str, first_seq: int) -> tuple[int, str] | None:
    expected_seq = first_seq
    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            return expected_seq, f"sequence jumps from {expected_seq - 1} to {seq} (row deleted or inserted)"
        if row["prev_hash"] != prev:
            return seq, "prev_hash does not match the previous event's hash"
        if chain_hash(prev, body_of(row)) != row["hash"]:
            return seq, "hash does not match the event's content (edited)"
        prev, expected_seq = row["hash"], seq + 1
    return None


def stored_row(ev: AuditEvent) -> dict[str, Any]:
    body = event_body(ev.seq, ev.at, ev.actor, ev.type, ev.instance_id, ev.element_id, ev.element_name,
                      ev.data_json, ev.chain, ev.chain_seq)
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
    """Checks every chain, its head row and the checkpoint chain; with `checkpoints` (the file kept outside the
    database) also finds a tail cut off together with the head rows and the anchors."""
    session = uow.session
    rows = [stored_row(ev) for ev in session.execute(
        select(AuditEvent).order_by(AuditEvent.chain.is_not(None), AuditEvent.chain, AuditEvent.chain_seq,
                                    AuditEvent.seq)).scalars()]
    legacy = [r for r in rows if not is_chained(r)]
    chained = [r for r in rows if is_chained(r)]
    found = _verify_legacy(legacy, GENESIS, 1)
    if found is not None:
        return Verification(False, len(rows), *found)
    head = session.get(AuditHead, 1)
    last_seq = legacy[-1]["seq"] if legacy else 0
    last_hash = legacy[-1]["hash"] if legacy else GENESIS
    if head is not None and (head.seq != last_seq or head.hash != last_hash):
        return Verification(False, len(rows), last_seq + 1,
                            f"the chain ends at {last_seq} but its head says {head.seq} (tail truncated)")
    by_seq = {r["seq"]: r["hash"] for r in legacy}
    for cp in session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)).scalars():
        if cp.seq > last_seq:
            return Verification(False, len(rows), last_seq + 1,
                                f"the chain ends at {last_seq} but a checkpoint records {cp.seq} (tail truncated)")
        if by_seq.get(cp.seq) != cp.hash:
            return Verification(False, len(rows), cp.seq, f"checkpoint at {cp.seq} does not match the chain")
    problem = audit_chains.verify_stored(session, chained, by_seq, len(rows))
    if problem is not None:
        return Verification(False, len(rows), *problem)
    if checkpoints is not None and Path(checkpoints).exists():
        entries = read_checkpoint_file(checkpoints)
        legacy_entries = [e for e in entries if "anchor" not in e]
        chain = legacy[0]["hash"] if legacy else None
        found_file = check_against_checkpoints(by_seq, last_seq, legacy_entries, chain, len(rows), strict)
        if found_file is not None:
            return found_file
        reason = audit_chains.against_file(session, entries, strict)
        if reason is not None:
            return Verification(False, len(rows), None, reason)
    return Verification(True, len(rows))


def instance_events(uow: UnitOfWork, instance_id: int) -> list[AuditEvent]:
    # One instance's events are in one chain: its position orders them (earlier trail: by seq).
    stmt = (select(AuditEvent).where(AuditEvent.instance_id == instance_id)
            .order_by(AuditEvent.chain_seq.is_not(None), AuditEvent.chain_seq, AuditEvent.seq))
    return list(uow.session.execute(stmt).scalars())


def event_view(ev: AuditEvent) -> dict[str, Any]:
    return {
        "seq": ev.seq, "at": ev.at.isoformat(), "actor": ev.actor, "type": ev.type, "element_id": ev.element_id,
        "element_name": ev.element_name, "data": json.loads(ev.data_json), "prev_hash": ev.prev_hash,
        "hash": ev.hash, "instance_id": ev.instance_id, "chain": ev.chain, "n": ev.chain_seq,
    }
