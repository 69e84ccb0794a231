"""The trail taken out of the system: a JSON Lines bundle that anyone can check offline, without a database.

Line 1 is a header (format, range; for each chain its slice, the anchor it starts from - the prev_hash of its
first event - and its head; the same for the trail written before the partitions and for the checkpoint
chain), then one line per event exactly as hashed (audit.stored_row), one per anchor of the checkpoint chain in
the range, then a footer (counts and the sha256 of every line before it). verify_bundle recomputes every chain
from its anchor; bundles of format version 1 (one global chain) still verify. See docs/audit.md."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
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
    firsts = dict(session.execute(select(AuditEvent.chain, func.min(AuditEvent.chain_seq)).where(
        chained, *([AuditEvent.at >= start] if start is not None else [])).group_by(AuditEvent.chain)).all())
    lasts = dict(session.execute(select(AuditEvent.chain, func.max(AuditEvent.chain_seq)).where(
        chained, *([AuditEvent.at < end] if end is not None else [])).group_by(AuditEvent.chain)).all())
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
    for k, (a, b) in _chain_ranges(uow, start, end).items():
        prev = session.execute(select(AuditEvent.prev_hash).where(AuditEvent.chain == k, AuditEvent.chain_seq == a)
                               ).scalar_one()
        chains[str(k)] = {"first": a, "last": b, "anchor": prev, "head": heads.get(k)}
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

    version = header.get("version")
    columns = V1_COLUMNS if version == 1 else CSV_COLUMNS
    rows: list[dict[str, Any]] = []
    anchors: list[dict[str, Any]] = []
    footer: dict[str, Any] | None = None
    expected = first or 1
    for number, line in enumerate(lines[1:], start=2):
        parsed = _json(line)
        if parsed is not None and parsed.get("kind") == "footer" and number == len(lines):
            footer = parsed
            break
        if version != 1 and parsed is not None and parsed.get("kind") == "anchor":
            if not _anchor_shape(parsed):
                return bad(None, f"line {number} is not an anchor of the checkpoint chain", len(rows))
            anchors.append(parsed)
            continue
        if parsed is None or parsed.get("kind") != "event" or anchors:
            if version == 1:
                return bad(expected, f"line {number} is not an event of the bundle", len(rows))
            return bad(_seq_in(line), f"line {number}{_where_in(line)} is not an event of the bundle", len(rows))
        try:
            rows.append({k: parsed[k] for k in columns if k in parsed or k in V1_COLUMNS})
        except KeyError as missing:
            return bad(expected, f"line {number} lacks the field {missing}", len(rows))
        expected = rows[-1]["seq"] + 1 if isinstance(rows[-1]["seq"], int) else expected
    legacy = [r for r in rows if not audit.is_chained(r)]
    if version != 1 and legacy and first is None:
        return bad(legacy[0].get("seq"), "an event without a chain in a bundle that announces none (edited)",
                   len(rows))
    result = audit.verify_rows(legacy, prev=header.get("anchor") or audit.GENESIS, first_seq=first or 1)
    if not result.ok:
        return bad(result.first_bad_seq, result.reason or "the chain does not verify", len(rows))
    end_seq = legacy[-1]["seq"] if legacy else (first or 1) - 1
    if footer is None:
        return bad(end_seq + 1, "the bundle ends without its footer (truncated)", len(rows))
    if version != 1:
        found = _verify_chains(header, [r for r in rows if audit.is_chained(r)], anchors, footer)
        if found is not None:
            return bad(found[0], found[1], len(rows))
    digest_all = hashlib.sha256((lines[0] or "").encode("utf-8") + b"\n" + _joined(lines[1:-1])).hexdigest()
    problems = [
        (footer.get("count") != len(rows) or (last is not None and end_seq != last),
         f"the header promises events {first}..{last} but the bundle holds {len(rows)} (truncated)"),
        (footer.get("last_hash") != (legacy[-1]["hash"] if legacy else header.get("anchor")),
         "the footer's last hash is not the last event's"),
        (any(footer.get(k) != header.get(k) for k in ("first_seq", "last_seq", "head_seq", "head_hash")),
         "header and footer disagree"),
        (header.get("head_seq") == last and last is not None and header.get("head_hash") != footer.get("last_hash"),
         "the bundle ends at the head but its hash is not the head's"),
        (footer.get("sha256") != digest_all, "the bundle's digest does not match its lines (edited)"),
        (version != 1 and set(footer) != FOOTER_KEYS, "the footer's fields are not a bundle footer's (edited)"),
    ]
    for failed, reason in problems:
        if failed:
            return bad(end_seq + 1 if "truncated" in reason else None, reason, len(rows))
    if checkpoints is not None:
        found_cp = _against_checkpoints(header, legacy, [e for e in checkpoints if "anchor" not in e])
        if found_cp is not None:
            return bad(found_cp.first_bad_seq, found_cp.reason or "checkpoint mismatch", len(rows))
        reason = _anchors_against_file(header, anchors, [e for e in checkpoints if "anchor" in e])
        if reason is not None:
            return bad(None, reason, len(rows))
    return BundleVerification(True, len(rows), None, None, first, last, header.get("head_hash"))


def _seq_in(line: str | None) -> int | None:
    """The number of the event a damaged line held, when it can still be read."""
    found = re.search(r'"seq":(\d+)[,}]', line or "")
    return int(found.group(1)) if found else None


def _where_in(line: str | None) -> str:
    """' (chain k position n)' of a damaged event line, when that can still be read."""
    chain, n = re.search(r'"chain":(\d+)[,}]', line or ""), re.search(r'"n":(\d+)[,}]', line or "")
    return f" (chain {chain.group(1)} position {n.group(1)})" if chain and n else ""


def _anchor_shape(a: dict[str, Any]) -> bool:
    return (isinstance(a.get("n"), int) and isinstance(a.get("heads"), dict) and isinstance(a.get("at"), str)
            and all(isinstance(v, list) and len(v) == 2 and isinstance(v[0], int) for v in a["heads"].values()))


def _verify_chains(header: dict[str, Any], rows: list[dict[str, Any]], anchors: list[dict[str, Any]],
                   footer: dict[str, Any]) -> tuple[int | None, str] | None:
    """Format 2: every chain's slice from its anchor to its stated end, the anchors in the range, and every
    head those anchors recorded that falls in a slice."""
    parts = header.get("chains") if isinstance(header.get("chains"), dict) else {}
    try:
        starts = {int(k): (int(p["first"]), str(p["anchor"])) for k, p in parts.items()}
        lasts = {int(k): int(p["last"]) for k, p in parts.items()}
    except (KeyError, TypeError, ValueError):
        return None, "the header's chains are not readable (edited)"
    for row in rows:
        if str(row.get("chain")).isdigit() and int(row["chain"]) not in starts:
            return row.get("seq"), f"an event of chain {row['chain']} the header does not announce"
    ends, problem = audit_chains.verify_chained(rows, starts)
    if problem is not None:
        return problem
    for k, last in lasts.items():
        end = ends.get(k, (starts[k][0] - 1, starts[k][1]))
        if end[0] != last:
            return None, f"the header promises chain {k} up to position {last} but it ends at {end[0]} (truncated)"
        head = parts[str(k)].get("head")
        if isinstance(head, list) and head and head[0] == last and head[1] != end[1]:
            return None, f"chain {k} ends at its head but its hash is not the head's"
    stated = header.get("anchors") if isinstance(header.get("anchors"), dict) else {}
    if anchors:
        found = audit_chains.verify_anchors(anchors, stated.get("anchor"), stated.get("first") or 1)
        if found is not None:
            return found
    if footer.get("anchors") != len(anchors) or (anchors and anchors[-1]["n"] != stated.get("last")):
        return None, "the anchors of the range are not all in the bundle (truncated)"
    hashes = {(int(r["chain"]), int(r["n"])): r["hash"] for r in rows}
    for a in anchors:
        for key, (n, digest) in a["heads"].items():
            if not str(key).isdigit() or int(key) not in starts:
                continue
            chain = int(key)
            if n > lasts[chain]:
                return None, (f"anchor {a['n']} records chain {chain} at position {n}, beyond the bundle's end "
                              f"{lasts[chain]} (truncated)")
            if n >= starts[chain][0] and hashes.get((chain, n)) != digest:
                return None, f"anchor {a['n']} records chain {chain} at position {n} with another hash"
    return None


def _anchors_against_file(header: dict[str, Any], anchors: list[dict[str, Any]],
                          entries: list[dict[str, Any]]) -> str | None:
    """The checkpoint file's anchor lines of this trail against the bundle's anchors and its stated head."""
    by_n = {a["n"]: a["hash"] for a in anchors}
    stated = (header.get("anchors") or {}).get("head") or [0, None]
    exported = header.get("exported_at") or ""
    for entry in entries:
        if entry.get("trail") != header.get("trail"):
            continue
        n = entry["anchor"]
        if n in by_n and by_n[n] != entry.get("hash"):
            return f"checkpoint file entry for anchor {n} does not match the bundle"
        if n > (stated[0] or 0) and _before(entry.get("at"), exported):
            return (f"the checkpoint file recorded anchor {n} before the export, beyond the anchor head "
                    f"{stated[0]} the bundle states (truncated)")
    return None


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
