"""The trail taken out of the system: a JSON Lines bundle that anyone can check offline, without a database.

Line 1 is a header (format, range; for each chain its slice, the anchor it starts from - the prev_hash of its
first event - and its head; the same for the trail written before the partitions and for the checkpoint
chain), then one line per event exactly as hashed (audit.stored_row), one per anchor of the checkpoint chain in
the range, then a footer (counts and the sha256 of every line before it). audit_bundle_check checks a bundle
offline. See docs/audit.md."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from engine import clock
from engine.db.database import UnitOfWork
from engine.db.models import AuditAnchor, AuditChain, AuditEvent, AuditHead
from engine.errors import BadRequest
from engine.services import audit, audit_chains

FORMAT = "itsmflow-audit-bundle"
VERSION = 2
BATCH = 1000
CSV_COLUMNS = ("seq", "at", "actor", "type", "instance_id", "element_id", "element_name", "data", "prev_hash",
               "hash", "chain", "n")
V1_COLUMNS = CSV_COLUMNS[:10]
FOOTER_KEYS = {"kind", "count", "anchors", "first_seq", "last_seq", "last_hash", "head_seq", "head_hash", "sha256"}


def parse_when(text: str | None, end: bool = False, name: str = "from") -> datetime | None:
    """`2026-03-01` (a day: its start, or for an end the start of the next day) or an ISO time (UTC if naive)."""
    if text is None or not str(text).strip():
        return None
    raw = str(text).strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime.combine(day + timedelta(days=1 if end else 0), time(), UTC)
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be a date (YYYY-MM-DD) or an ISO time",
                         fields={name: "must be a date or an ISO time"}) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _range(uow: UnitOfWork, start: datetime | None, end: datetime | None) -> tuple[int, int]:
    """The trail before the partitions: the contiguous seq range from the first event at or after start to the
    last one before end. Events in between whose clock reading falls outside (a clock set back) stay in, or
    the slice would not verify."""
    session = uow.session
    legacy = AuditEvent.chain.is_(None)
    first = session.execute(select(func.min(AuditEvent.seq)).where(
        legacy, *([AuditEvent.at >= start] if start is not None else []))).scalar_one()
    last = session.execute(select(func.max(AuditEvent.seq)).where(
        legacy, *([AuditEvent.at < end] if end is not None else []))).scalar_one()
    return (first or 0, last or 0)


def _chain_ranges(uow: UnitOfWork, start: datetime | None, end: datetime | None) -> dict[int, tuple[int, int]]:
    """Per chain, the same: positions from the first event at or after start to the last one before end."""
    session = uow.session
    chained = AuditEvent.chain.is_not(None)
    # Only chained events are read, and a chain's min and max exist: the None checks only narrow the types.
    firsts = {k: n for k, n in session.execute(select(AuditEvent.chain, func.min(AuditEvent.chain_seq)).where(
        chained, *([AuditEvent.at >= start] if start is not None else [])).group_by(AuditEvent.chain)).tuples()
        if k is not None and n is not None}
    lasts = {k: n for k, n in session.execute(select(AuditEvent.chain, func.max(AuditEvent.chain_seq)).where(
        chained, *([AuditEvent.at < end] if end is not None else [])).group_by(AuditEvent.chain)).tuples()
        if k is not None and n is not None}
    return {k: (firsts[k], lasts[k]) for k in sorted(firsts) if k in lasts and firsts[k] <= lasts[k]}


def _events(uow: UnitOfWork, first: int, last: int) -> Iterator[AuditEvent]:
    after = first - 1
    while after < last:
        stmt = (select(AuditEvent).where(AuditEvent.chain.is_(None), AuditEvent.seq > after, AuditEvent.seq <= last)
                .order_by(AuditEvent.seq).limit(BATCH))
        rows = list(uow.session.execute(stmt).scalars())
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def _chain_events(uow: UnitOfWork, chain: int, first: int, last: int) -> Iterator[AuditEvent]:
    after = first - 1
    while after < last:
        stmt = (select(AuditEvent).where(AuditEvent.chain == chain, AuditEvent.chain_seq > after,
                                         AuditEvent.chain_seq <= last).order_by(AuditEvent.chain_seq).limit(BATCH))
        rows = list(uow.session.execute(stmt).scalars())
        if not rows:
            return
        yield from rows
        after = rows[-1].chain_seq or last


def export_lines(uow: UnitOfWork, start: datetime | None = None, end: datetime | None = None) -> Iterator[str]:
    """The bundle, line by line (no newlines), read in batches."""
    session = uow.session
    head = session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, audit.GENESIS)
    first, last = _range(uow, start, end)
    if first == 0 or last < first:
        first, last = 0, -1
    anchor = session.execute(select(AuditEvent.prev_hash).where(AuditEvent.seq == first)).scalar_one_or_none()
    legacy_id = session.execute(select(AuditEvent.hash).where(AuditEvent.seq == 1, AuditEvent.chain.is_(None))
                                ).scalar_one_or_none()
    heads = {k: [n, h] for k, n, h in session.execute(select(AuditChain.id, AuditChain.seq, AuditChain.hash)
                                                       .where(AuditChain.seq > 0))}
    chains: dict[str, Any] = {}
    for chain_id, (low, high) in _chain_ranges(uow, start, end).items():
        prev = session.execute(select(AuditEvent.prev_hash).where(AuditEvent.chain == chain_id,
                                                                  AuditEvent.chain_seq == low)).scalar_one()
        chains[str(chain_id)] = {"first": low, "last": high, "anchor": prev, "head": heads.get(chain_id)}
    window = [*([AuditAnchor.at >= start] if start is not None else []),
              *([AuditAnchor.at < end] if end is not None else [])]
    anchors = [audit_chains.anchor_row(a) for a in session.execute(
        select(AuditAnchor).where(*window).order_by(AuditAnchor.n)).scalars()]
    last_anchor = session.execute(select(AuditAnchor.n, AuditAnchor.hash).order_by(AuditAnchor.n.desc()).limit(1)
                                  ).first()
    trail = session.execute(select(AuditAnchor.hash).where(AuditAnchor.n == 1)).scalar_one_or_none()
    header = {"kind": "header", "format": FORMAT, "version": VERSION,
              "from": start.isoformat() if start else None, "to": end.isoformat() if end else None,
              "first_seq": first if last >= first else None, "last_seq": last if last >= first else None,
              "anchor": anchor, "chain": legacy_id, "head_seq": head_seq, "head_hash": head_hash,
              "chains": chains, "trail": trail,
              "anchors": {"first": anchors[0]["n"] if anchors else None, "last": anchors[-1]["n"] if anchors else None,
                          "anchor": anchors[0]["prev_hash"] if anchors else None,
                          "head": list(last_anchor) if last_anchor else None},
              "exported_at": clock.now().isoformat()}
    digest = hashlib.sha256()
    count, last_hash = 0, anchor
    text = audit.canonical(header)
    digest.update((text + "\n").encode("utf-8"))
    yield text
    for ev in _events(uow, first, last) if last >= first else iter(()):
        text = audit.canonical({**audit.stored_row(ev), "kind": "event"})
        digest.update((text + "\n").encode("utf-8"))
        count, last_hash = count + 1, ev.hash
        yield text
    for k, part in chains.items():
        for ev in _chain_events(uow, int(k), part["first"], part["last"]):
            text = audit.canonical({**audit.stored_row(ev), "kind": "event"})
            digest.update((text + "\n").encode("utf-8"))
            count += 1
            yield text
    for a in anchors:
        text = audit.canonical({**a, "kind": "anchor"})
        digest.update((text + "\n").encode("utf-8"))
        yield text
    yield audit.canonical({"kind": "footer", "count": count, "anchors": len(anchors),
                           "first_seq": header["first_seq"], "last_seq": header["last_seq"], "last_hash": last_hash,
                           "head_seq": head_seq, "head_hash": head_hash, "sha256": digest.hexdigest()})


def export(uow: UnitOfWork, start: datetime | None = None, end: datetime | None = None) -> list[str]:
    return list(export_lines(uow, start, end))


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection through an element name
# or a form value). Such cells get a leading apostrophe, which spreadsheets show as text; cells that start with
# an apostrophe get one too, so that csv_value() restores every cell exactly (the hashes cover the original).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def csv_cell(value: object) -> object:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def csv_value(cell: str) -> str:
    """A cell of the CSV export as it was hashed."""
    return cell[1:] if cell.startswith("'") else cell


def export_csv(uow: UnitOfWork, start: datetime | None = None, end: datetime | None = None) -> Iterator[str]:
    """The same events as CSV (a header row, then one row per event, the hashed fields verbatim except for the
    apostrophe csv_cell puts before a would-be formula)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    first, last = _range(uow, start, end)
    legacy = _events(uow, first, last) if first and last >= first else iter(())
    chained = (ev for k, (a, b) in _chain_ranges(uow, start, end).items() for ev in _chain_events(uow, k, a, b))
    for ev in itertools.chain(legacy, chained):
        row = audit.stored_row(ev)
        writer.writerow([csv_cell("" if row.get(c) is None else row[c]) for c in CSV_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
