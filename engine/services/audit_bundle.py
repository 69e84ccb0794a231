"""The trail taken out of the system: a JSON Lines bundle that anyone can check offline, without a database.

Line 1 is a header (format, range, the chain's head and the anchor: the prev_hash of the first event), then one
line per event exactly as hashed (audit.stored_row), then a footer (count, last hash, the head again and the
sha256 of every line before it). verify_bundle recomputes the chain from the anchor. See docs/audit.md."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from engine import clock
from engine.db.database import UnitOfWork
from engine.db.models import AuditEvent, AuditHead
from engine.errors import BadRequest
from engine.services import audit

FORMAT = "itsmflow-audit-bundle"
VERSION = 1
BATCH = 1000
CSV_COLUMNS = ("seq", "at", "actor", "type", "instance_id", "element_id", "element_name", "data", "prev_hash",
               "hash")


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
    """The contiguous seq range from the first event at or after start to the last one before end. Events in
    between whose clock reading falls outside (a clock set back) stay in, or the slice would not verify."""
    session = uow.session
    first = 1 if start is None else session.execute(
        select(func.min(AuditEvent.seq)).where(AuditEvent.at >= start)).scalar_one()
    last = session.execute(select(func.max(AuditEvent.seq)).where(
        *([AuditEvent.at < end] if end is not None else []))).scalar_one()
    return (first or 0, last or 0)


def _events(uow: UnitOfWork, first: int, last: int) -> Iterator[AuditEvent]:
    after = first - 1
    while after < last:
        stmt = (select(AuditEvent).where(AuditEvent.seq > after, AuditEvent.seq <= last)
                .order_by(AuditEvent.seq).limit(BATCH))
        rows = list(uow.session.execute(stmt).scalars())
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def export_lines(uow: UnitOfWork, start: datetime | None = None, end: datetime | None = None) -> Iterator[str]:
    """The bundle, line by line (no newlines), read in batches."""
    session = uow.session
    head = session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, audit.GENESIS)
    first, last = _range(uow, start, end)
    if first == 0 or last < first:
        first, last = 0, -1
    anchor = session.execute(select(AuditEvent.prev_hash).where(AuditEvent.seq == first)).scalar_one_or_none()
    chain = session.execute(select(AuditEvent.hash).where(AuditEvent.seq == 1)).scalar_one_or_none()
    header = {"kind": "header", "format": FORMAT, "version": VERSION,
              "from": start.isoformat() if start else None, "to": end.isoformat() if end else None,
              "first_seq": first if last >= first else None, "last_seq": last if last >= first else None,
              "anchor": anchor, "chain": chain, "head_seq": head_seq, "head_hash": head_hash,
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
    yield audit.canonical({"kind": "footer", "count": count, "first_seq": header["first_seq"],
                           "last_seq": header["last_seq"], "last_hash": last_hash, "head_seq": head_seq,
                           "head_hash": head_hash, "sha256": digest.hexdigest()})


def export(uow: UnitOfWork, start: datetime | None = None, end: datetime | None = None) -> list[str]:
    return list(export_lines(uow, start, end))


def export_csv(uow: UnitOfWork, start: datetime | None = None, end: datetime | None = None) -> Iterator[str]:
    """The same events as CSV (a header row, then one row per event, the hashed fields verbatim)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    first, last = _range(uow, start, end)
    rows = _events(uow, first, last) if first and last >= first else iter(())
    for ev in rows:
        row = audit.stored_row(ev)
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@dataclass
class BundleVerification(audit.Verification):
    first_seq: int | None = None
    last_seq: int | None = None
    head_hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "first_seq": self.first_seq, "last_seq": self.last_seq,
                "head_hash": self.head_hash}


def _lines(source: str | Path | bytes | Iterable[str]) -> list[str | None]:
    """The bundle's lines; a line that is not UTF-8 becomes None (reported where it stands). A str is the
    bundle's text when it starts with "{", else a file name."""
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("{")):
        source = Path(source).read_bytes()
    if isinstance(source, str):
        source = source.encode("utf-8")
    if isinstance(source, bytes):
        raw = source.split(b"\n")
        if raw and raw[-1] == b"":
            raw.pop()
        out: list[str | None] = []
        for chunk in raw:
            try:
                out.append(chunk.decode("utf-8"))
            except UnicodeDecodeError:
                out.append(None)
        return out
    return [line.rstrip("\n") for line in source]


def _json(line: str | None) -> dict[str, Any] | None:
    if line is None:
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def verify_bundle(source: str | Path | bytes | Iterable[str],
                  checkpoints: list[dict[str, Any]] | None = None) -> BundleVerification:
    """Checks a bundle without any database. `checkpoints` (audit.read_checkpoint_file) adds the hashes kept
    outside the database: a bundle rebuilt from scratch no longer matches them."""
    lines = _lines(source)
    header = _json(lines[0]) if lines else None
    if header is None or header.get("kind") != "header" or header.get("format") != FORMAT:
        return BundleVerification(False, 0, None, "the first line is not an itsmflow audit bundle header")
    first, last = header.get("first_seq"), header.get("last_seq")

    def bad(seq: int | None, reason: str, events: int) -> BundleVerification:
        return BundleVerification(False, events, seq, reason, first, last, header.get("head_hash"))

    rows: list[dict[str, Any]] = []
    footer: dict[str, Any] | None = None
    expected = first or 1
    for number, line in enumerate(lines[1:], start=2):
        parsed = _json(line)
        if parsed is not None and parsed.get("kind") == "footer" and number == len(lines):
            footer = parsed
            break
        if parsed is None or parsed.get("kind") != "event":
            return bad(expected, f"line {number} is not an event of the bundle", len(rows))
        try:
            rows.append({k: parsed[k] for k in (*CSV_COLUMNS,)})
        except KeyError as missing:
            return bad(expected, f"line {number} lacks the field {missing}", len(rows))
        expected = rows[-1]["seq"] + 1 if isinstance(rows[-1]["seq"], int) else expected
    result = audit.verify_rows(rows, prev=header.get("anchor") or audit.GENESIS, first_seq=first or 1)
    if not result.ok:
        return bad(result.first_bad_seq, result.reason or "the chain does not verify", len(rows))
    end_seq = rows[-1]["seq"] if rows else (first or 1) - 1
    if footer is None:
        return bad(end_seq + 1, "the bundle ends without its footer (truncated)", len(rows))
    digest_all = hashlib.sha256((lines[0] or "").encode("utf-8") + b"\n" + _joined(lines[1:-1])).hexdigest()
    problems = [
        (footer.get("count") != len(rows) or (last is not None and end_seq != last),
         f"the header promises events {first}..{last} but the bundle holds {len(rows)} (truncated)"),
        (footer.get("last_hash") != (rows[-1]["hash"] if rows else header.get("anchor")),
         "the footer's last hash is not the last event's"),
        (any(footer.get(k) != header.get(k) for k in ("first_seq", "last_seq", "head_seq", "head_hash")),
         "header and footer disagree"),
        (header.get("head_seq") == last and last is not None and header.get("head_hash") != footer.get("last_hash"),
         "the bundle ends at the head but its hash is not the head's"),
        (footer.get("sha256") != digest_all, "the bundle's digest does not match its lines (edited)"),
    ]
    for failed, reason in problems:
        if failed:
            return bad(end_seq + 1 if "truncated" in reason else None, reason, len(rows))
    if checkpoints is not None:
        found = _against_checkpoints(header, rows, checkpoints)
        if found is not None:
            return bad(found.first_bad_seq, found.reason or "checkpoint mismatch", len(rows))
    return BundleVerification(True, len(rows), None, None, first, last, header.get("head_hash"))


def _joined(lines: list[str | None]) -> bytes:
    return b"".join(((line or "") + "\n").encode("utf-8") for line in lines)


def _before(at: Any, exported: Any) -> bool:
    try:
        return datetime.fromisoformat(str(at)) < datetime.fromisoformat(str(exported))
    except ValueError:
        return False


def _against_checkpoints(header: dict[str, Any], rows: list[dict[str, Any]],
                         entries: list[dict[str, Any]]) -> audit.Verification | None:
    by_seq = {r["seq"]: r["hash"] for r in rows}
    exported = header.get("exported_at") or ""
    for entry in entries:
        if "error" in entry:
            return audit.Verification(False, len(rows), None, entry["error"])
        if entry.get("chain") != header.get("chain"):
            continue
        seq = entry["seq"]
        if seq in by_seq and by_seq[seq] != entry.get("hash"):
            return audit.Verification(False, len(rows), seq, f"checkpoint file entry for {seq} does not match")
        if seq > (header.get("head_seq") or 0) and _before(entry.get("at"), exported):
            return audit.Verification(False, len(rows), (header.get("head_seq") or 0) + 1,
                                      f"the checkpoint file recorded seq {seq} before the export, beyond the "
                                      "head the bundle states (truncated)")
    return None
