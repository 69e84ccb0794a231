"""Checking an audit bundle (audit_bundle.export_lines) offline, without a database: every chain recomputed from
its anchor, the checkpoint chain, the footer's counts and digest, and, when given, the hashes kept outside the
database. Bundles of format version 1 (one global chain) still verify. See docs/audit.md."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.services import audit, audit_chains
from engine.services.audit_bundle import CSV_COLUMNS, FOOTER_KEYS, FORMAT, V1_COLUMNS


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
        mismatch = _anchors_against_file(header, anchors, [e for e in checkpoints if "anchor" in e])
        if mismatch is not None:
            return bad(None, mismatch, len(rows))
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
    parts: dict[str, Any] = header["chains"] if isinstance(header.get("chains"), dict) else {}
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
    stated: dict[str, Any] = header["anchors"] if isinstance(header.get("anchors"), dict) else {}
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
