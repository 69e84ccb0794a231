"""Partitioned audit chains and the checkpoint chain that anchors them.

Events are hash-chained per partition (chain = instance id modulo PARTITIONS; events of no instance go to chain
0), so a step locks only its own chain's head row: steps of unrelated instances never wait on one row. Every so
often (the worker, `itsmflow audit checkpoint`) an anchor records the heads of all chains and is hash-chained to
the previous anchor; its hash also goes to the checkpoint file outside the database. See docs/audit.md."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import ARRAY, Integer, bindparam, func, literal_column, select
from sqlalchemy.orm import Session

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.driver import Prepared
from engine.db.models import AuditAnchor, AuditChain, AuditEvent, AuditHead, table_of
from engine.services import audit_secrets

PARTITIONS = 64  # the migration (perf_01) creates a head row for each
ANCHOR_SECONDS = float(os.environ.get("ITSMFLOW_AUDIT_ANCHOR_SECONDS", "60"))
_last_anchor_try: dict[str, float] = {}


def chain_of(instance_id: int | None) -> int:
    return 0 if instance_id is None else instance_id % PARTITIONS


def genesis(chain: int) -> str:
    """Each chain starts from its own value: a chain's events cannot be passed off as another's."""
    return hashlib.sha256(f"itsmflow audit chain {chain}".encode()).hexdigest()


_CHAINS = table_of(AuditChain)
_EVENTS = table_of(AuditEvent)
# PostgreSQL: ARRAY(SELECT nextval(...) FROM generate_series(1, n)), numbers no other writer can take.
_SEQS_PG = func.array(select(func.nextval(literal_column("'audit_event_seq'"))).select_from(
    func.generate_series(1, bindparam("n", type_=Integer))).scalar_subquery(), type_=ARRAY(Integer))
# SQLite: the writer holds the database's write lock (BEGIN IMMEDIATE), so the next numbers are max + 1... and
# seq is the table's rowid: MAX is one step down the B-tree's right edge, not a scan.
_LAST_SEQ_SQLITE = select(func.coalesce(func.max(_EVENTS.c.seq), 0)).scalar_subquery()


def _lock(postgres: bool, versions: bool) -> Prepared:
    stmt = select(_CHAINS.c.seq, _CHAINS.c.hash, _SEQS_PG if postgres else _LAST_SEQ_SQLITE,
                  *(audit_secrets.VERSIONS if versions else ())).where(_CHAINS.c.id == bindparam("k"))
    return Prepared(stmt.with_for_update(of=_CHAINS) if postgres else stmt)


_LOCKS = {(postgres, versions): _lock(postgres, versions) for postgres in (False, True) for versions in (False, True)}


class Head(NamedTuple):
    n: int  # the chain's last position
    hash: str  # and its hash
    seqs: list[int]  # the global event numbers taken
    versions: tuple[Any, ...] | None  # what names the set of deployed versions (audit_secrets.VERSIONS), if asked


def lock_head(uow: UnitOfWork, chain: int, count: int, versions: bool = False) -> Head:
    """One statement: the chain's head (locked until commit), `count` global event numbers and, when asked,
    what names the set of deployed versions (for the secret fields of data that came from elsewhere)."""
    postgres = uow.is_postgres
    row = _LOCKS[(postgres, versions)].one_or_none(uow, {"k": chain, "n": count} if postgres else {"k": chain})
    if row is None:
        raise LookupError(f"no head row for audit chain {chain}: the database is not migrated")
    seqs = list(row[2]) if postgres else list(range(row[2] + 1, row[2] + 1 + count))
    return Head(row[0], row[1], seqs, tuple(row[3:]) if versions else None)


# --- the checkpoint chain ------------------------------------------------------------------------------------
def anchor_body(n: int, at_text: str, heads: dict[str, Any]) -> dict[str, Any]:
    return {"n": n, "at": at_text, "heads": heads}


def write_anchor(uow: UnitOfWork, force: bool = True) -> dict[str, Any] | None:
    """Records the heads of all chains (and the closed pre-partition trail's) as the next anchor. The caller
    commits. Not forced: nothing is written when no chain moved since the last anchor."""
    from engine.services import audit

    session = uow.session
    # The old head row's lock serializes anchor writers (only them: steps no longer touch it).
    legacy = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()).one()
    last = session.execute(select(AuditAnchor).order_by(AuditAnchor.n.desc()).limit(1)).scalar_one_or_none()
    heads: dict[str, Any] = {str(k): [n, h] for k, n, h in session.execute(
        select(AuditChain.id, AuditChain.seq, AuditChain.hash).where(AuditChain.seq > 0).order_by(AuditChain.id))}
    if legacy.seq > 0:
        heads["legacy"] = [legacy.seq, legacy.hash]
    if last is not None and not force and json.loads(last.heads_json) == heads:
        return None
    if last is None and not heads:
        return None
    n = (last.n if last else 0) + 1
    prev = last.hash if last else audit.GENESIS
    now = clock.now()
    body = anchor_body(n, audit.at_text(now), heads)
    digest = audit.chain_hash(prev, body)
    session.add(AuditAnchor(n=n, at=now, heads_json=audit.canonical(heads), prev_hash=prev, hash=digest))
    session.flush()
    trail = digest if n == 1 else session.execute(select(AuditAnchor.hash).where(AuditAnchor.n == 1)).scalar_one()
    audit.after_commit_line(session, {"trail": trail, "anchor": n, "hash": digest, "at": audit.at_text(now)})
    return {"anchor": n, "hash": digest, "at": audit.at_text(now), "chains": len(heads)}


def anchor_if_due(db: Database) -> dict[str, Any] | None:
    """For the worker loop: an anchor every ANCHOR_SECONDS when something was appended meanwhile."""
    now = time.monotonic()
    if now - _last_anchor_try.get(db.url, 0.0) < ANCHOR_SECONDS:
        return None
    _last_anchor_try[db.url] = now
    with unit_of_work(db) as uow:
        written = write_anchor(uow, force=False)
        uow.commit()
    return written


def anchor_row(a: AuditAnchor) -> dict[str, Any]:
    from engine.services import audit

    return {"n": a.n, "at": audit.at_text(a.at), "heads": json.loads(a.heads_json), "prev_hash": a.prev_hash,
            "hash": a.hash}


# --- verification ---------------------------------------------------------------------------------------------
def verify_chained(rows: Iterable[dict[str, Any]], anchors: dict[int, tuple[int, str]] | None = None,
                   ) -> tuple[dict[int, tuple[int, str]], tuple[Any, str] | None]:
    """Checks partitioned events (dicts as audit.stored_row makes them), chain by chain in position order,
    each from its anchor (chain -> (first position, prev_hash); default the chain's start). Returns the last
    (position, hash) of each chain and the first problem found as (seq, reason), or None."""
    from engine.services import audit

    by_chain: dict[int, list[dict[str, Any]]] = {}
    problems: list[tuple[int | None, str]] = []
    for row in rows:
        if not all(isinstance(row.get(k), int) for k in ("chain", "n")) and not all(
                str(row.get(k, "")).isdigit() for k in ("chain", "n")):
            problems.append((row.get("seq"), "an event whose chain or position is not a number (edited)"))
            continue
        by_chain.setdefault(int(row["chain"]), []).append(row)
    ends: dict[int, tuple[int, str]] = {}
    for chain, items in sorted(by_chain.items()):
        items.sort(key=lambda r: int(r["n"]))
        expected, prev = (anchors or {}).get(chain, (1, genesis(chain)))
        for row in items:
            n = int(row["n"])
            where = f"chain {chain} position {n}"
            if n != expected:
                what = "an event deleted" if n > expected else "an event inserted"
                problems.append((row["seq"], f"{where}: chain {chain} jumps from position {expected - 1} to {n} "
                                             f"({what})"))
                break
            if row["prev_hash"] != prev:
                problems.append((row["seq"], f"{where}: prev_hash does not match the previous event of the chain "
                                             "(an event deleted, inserted or moved)"))
                break
            if audit.chain_hash(prev, audit.body_of(row)) != row["hash"]:
                problems.append((row["seq"], f"{where}: hash does not match the event's content (edited)"))
                break
            prev, expected = row["hash"], n + 1
        ends[chain] = (expected - 1, prev)
    problems.sort(key=lambda p: (not isinstance(p[0], int), p[0] if isinstance(p[0], int) else 0))
    return ends, (problems[0] if problems else None)


def verify_anchors(anchors: list[dict[str, Any]], prev: str | None = None,
                   first: int = 1) -> tuple[int | None, str] | None:
    """The checkpoint chain itself: positions without gaps, each linked to the one before, hashes intact."""
    from engine.services import audit

    expected, link = first, prev if prev is not None else audit.GENESIS
    for a in anchors:
        if a["n"] != expected:
            return None, f"the checkpoint chain jumps from anchor {expected - 1} to {a['n']} (an anchor deleted)"
        if a["prev_hash"] != link:
            return None, f"anchor {a['n']} is not linked to the anchor before it"
        if audit.chain_hash(link, anchor_body(a["n"], a["at"], a["heads"])) != a["hash"]:
            return None, f"anchor {a['n']} does not match its content (edited)"
        link, expected = a["hash"], a["n"] + 1
    return None


def heads_reached(anchors: list[dict[str, Any]], hashes: dict[tuple[int, int], str],
                  ends: dict[int, tuple[int, str]], legacy: dict[int, str]) -> str | None:
    """Every head an anchor recorded must still be in its chain, with the same hash."""
    for a in anchors:
        for key, (n, digest) in a["heads"].items():
            if key == "legacy":
                if legacy.get(n) != digest:
                    return (f"anchor {a['n']} records the earlier trail at seq {n}, which no longer "
                            f"{'matches' if n in legacy else 'exists (tail truncated)'}")
                continue
            chain = int(key)
            if (chain, n) not in hashes:
                end = ends.get(chain, (0, ""))[0]
                return (f"chain {chain} ends at position {end} but anchor {a['n']} records position {n} "
                        "(tail truncated)")
            if hashes[(chain, n)] != digest:
                return f"anchor {a['n']} records chain {chain} at position {n} with another hash"
    return None


def verify_stored(session: Session, rows: list[dict[str, Any]], legacy: dict[int, str],
                  events: int) -> tuple[int | None, str] | None:
    """The database's partitioned chains, their head rows and the checkpoint chain."""
    ends, problem = verify_chained(rows)
    if problem is not None:
        return problem
    for chain, n, digest in session.execute(select(AuditChain.id, AuditChain.seq, AuditChain.hash)):
        end = ends.get(chain, (0, genesis(chain)))
        if (n, digest) != end:
            return None, f"chain {chain} ends at position {end[0]} but its head says {n} (tail truncated or edited)"
    anchors = [anchor_row(a) for a in session.execute(select(AuditAnchor).order_by(AuditAnchor.n)).scalars()]
    found = verify_anchors(anchors)
    if found is not None:
        return found
    hashes = {(int(r["chain"]), int(r["n"])): r["hash"] for r in rows}
    reason = heads_reached(anchors, hashes, ends, legacy)
    return (None, reason) if reason else None


def against_file(session: Session, entries: list[dict[str, Any]], strict: bool) -> str | None:
    """Anchor lines of the checkpoint file against the checkpoint chain in the database."""
    anchors = {n: h for n, h in session.execute(select(AuditAnchor.n, AuditAnchor.hash))}
    trail = anchors.get(1)
    for entry in entries:
        if "anchor" not in entry:
            continue
        if entry.get("trail") != trail:
            if not strict:
                continue
            return (f"the checkpoint file records anchor {entry['anchor']} of another trail: the checkpoint chain "
                    "was rebuilt or the file is not this database's")
        n = entry["anchor"]
        if n not in anchors:
            return (f"the checkpoint chain ends at anchor {max(anchors, default=0)} but the checkpoint file "
                    f"records anchor {n} (truncated)")
        if anchors[n] != entry.get("hash"):
            return f"checkpoint file entry for anchor {n} does not match the checkpoint chain"
    return None
