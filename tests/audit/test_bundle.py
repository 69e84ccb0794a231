"""Integrity outside the system: bundles verified offline, one flipped byte found, truncation found; the
checkpoint file finds a chain whose tail was cut together with its head row and checkpoint table."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import text

from engine.db.database import Database, unit_of_work
from engine.services import audit, audit_bundle, audit_bundle_check, audit_chains, instances
from tests.bpmn_snippets import chain, user_task
from tests.conftest import ALICE, IVAN
from tests.support import deploy_xml, do

DAY = datetime(2026, 3, 10, tzinfo=UTC)


def _work(db: Database, n: int, at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        for _ in range(n):
            key = instances.start(db, IVAN, "p", {"summary": "printer ünïcode \"quoted\" \\ done"}).business_key
            do(db, ALICE, key, "n0", {"note": "line\nbreak"})


def _days_work(db: Database) -> None:
    with time_machine.travel(DAY - timedelta(days=1), tick=False):
        deploy_xml(db, chain("p", [user_task(0, fields='<camunda:formField id="note" type="string"/>'),
                                   user_task(1)]))
    _work(db, 2, DAY - timedelta(hours=2))  # the day before
    for hour in (9, 11, 15):
        _work(db, 2, DAY + timedelta(hours=hour))
    _work(db, 1, DAY + timedelta(days=1, hours=1))  # the day after


def _export(db: Database, start: datetime | None = DAY, end: datetime | None = DAY + timedelta(days=1)) -> list[str]:
    with unit_of_work(db) as uow:
        return audit_bundle.export(uow, start, end)


def _chains(header: dict) -> dict[int, dict]:
    return {int(k): part for k, part in header["chains"].items()}


def test_a_days_work_verifies_offline(db: Database, tmp_path: Path) -> None:
    _days_work(db)
    lines = _export(db)
    header, footer = json.loads(lines[0]), json.loads(lines[-1])
    events = [json.loads(line) for line in lines[1:-1]]
    chains = _chains(header)
    assert len(chains) == 6  # the six records of the day, each in its own chain; the days around are left out
    assert all(DAY <= datetime.fromisoformat(e["at"]) < DAY + timedelta(days=1) for e in events)
    assert footer["count"] == len(events) == sum(p["last"] - p["first"] + 1 for p in chains.values())
    path = tmp_path / "day.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db.dispose()  # offline: nothing below touches a database
    result = audit_bundle_check.verify_bundle(path)
    assert result.ok and result.events == len(events), result
    assert audit_bundle_check.verify_bundle(lines).ok and audit_bundle_check.verify_bundle(path.read_bytes()).ok


def test_a_whole_export_ends_at_the_heads(db: Database) -> None:
    _days_work(db)
    lines = _export(db, None, None)
    header = json.loads(lines[0])
    for k, part in _chains(header).items():
        assert part["first"] == 1 and part["anchor"] == audit_chains.genesis(k)
        assert part["head"][0] == part["last"]
    assert audit_bundle_check.verify_bundle(lines).ok


def test_a_format_1_bundle_still_verifies(db: Database) -> None:
    """Bundles exported before the partitions (one global chain, format version 1) verify as they did."""
    prev, rows = audit.GENESIS, []
    for seq in range(1, 4):
        body = audit.event_body(seq, DAY + timedelta(minutes=seq), "alice", "test.event", None, None, None, "{}")
        digest = audit.chain_hash(prev, body)
        rows.append({**body, "prev_hash": prev, "hash": digest, "kind": "event"})
        prev = digest
    header = {"kind": "header", "format": audit_bundle.FORMAT, "version": 1, "from": None, "to": None,
              "first_seq": 1, "last_seq": 3, "anchor": audit.GENESIS, "chain": rows[0]["hash"], "head_seq": 3,
              "head_hash": prev, "exported_at": DAY.isoformat()}
    texts = [audit.canonical(header), *(audit.canonical(r) for r in rows)]
    import hashlib

    digest = hashlib.sha256("".join(t + "\n" for t in texts).encode()).hexdigest()
    footer = {"kind": "footer", "count": 3, "first_seq": 1, "last_seq": 3, "last_hash": prev, "head_seq": 3,
              "head_hash": prev, "sha256": digest}
    lines = [*texts, audit.canonical(footer)]
    assert audit_bundle_check.verify_bundle(lines).ok
    lines[2] = lines[2].replace('"alice"', '"mallory"')
    assert audit_bundle_check.verify_bundle(lines).first_bad_seq == 2


def test_an_empty_range(db: Database) -> None:
    _days_work(db)
    lines = _export(db, DAY + timedelta(days=10), DAY + timedelta(days=11))
    assert len(lines) == 2 and audit_bundle_check.verify_bundle(lines).ok


def _event_at(data: bytes, position: int) -> dict | None:
    """The event line holding byte `position` (parsed from the unflipped data), None for other lines."""
    start = data.rfind(b"\n", 0, position) + 1
    end = data.find(b"\n", position)
    line = data[start:end]
    if b'"kind":"event"' not in line:
        return None
    return json.loads(line)


def test_flipping_any_byte_fails_and_names_the_event(db: Database, tmp_path: Path) -> None:
    _days_work(db)
    data = ("\n".join(_export(db)) + "\n").encode("utf-8")
    step = max(1, len(data) // 400)
    positions = sorted(set(range(0, len(data), step)) | set(range(len(data) - 300, len(data))))
    checked_events = 0
    for position in positions:
        flipped = bytearray(data)
        flipped[position] ^= 0x01
        result = audit_bundle_check.verify_bundle(bytes(flipped))
        assert not result.ok, f"flip at byte {position} went unnoticed"
        event = _event_at(data, position)
        if event is not None and data[position:position + 1] != b"\n":
            # Named by its number, or (when the flip hit the number itself) by its chain and position.
            named = f"chain {event['chain']} position {event['n']}" in (result.reason or "")
            assert result.first_bad_seq == event["seq"] or named, (position, result)
            checked_events += 1
    assert checked_events > 100


def test_truncation_is_found(db: Database) -> None:
    _days_work(db)
    lines = _export(db)
    cut = lines[:-4] + lines[-1:]  # three events gone, footer kept
    result = audit_bundle_check.verify_bundle(cut)
    assert not result.ok and "truncated" in (result.reason or "")
    no_footer = audit_bundle_check.verify_bundle(lines[:-3])
    assert not no_footer.ok and "truncated" in (no_footer.reason or "")
    assert not audit_bundle_check.verify_bundle(lines[:1]).ok
    assert not audit_bundle_check.verify_bundle([]).ok


def _anchored_days_work(db: Database) -> None:
    """A day's work with the heads anchored after each batch (as the worker does every minute)."""
    with time_machine.travel(DAY - timedelta(days=1), tick=False):
        deploy_xml(db, chain("p", [user_task(0, fields='<camunda:formField id="note" type="string"/>'),
                                   user_task(1)]))
    for hour in (9, 11, 15):
        _work(db, 2, DAY + timedelta(hours=hour))
        with time_machine.travel(DAY + timedelta(hours=hour, minutes=30), tick=False), unit_of_work(db) as uow:
            assert audit.write_checkpoint(uow) is not None
            uow.commit()


def _recompute(lines: list[str], keep: int) -> list[str]:
    """A forger who knows the format: keeps the first `keep` events of one chain, drops the rest and the
    anchors, then rewrites header and footer consistently."""
    import hashlib

    header = json.loads(lines[0])
    events = [line for line in lines[1:-1] if json.loads(line)["kind"] == "event"]
    counts: dict[int, int] = {}
    for e in events:
        counts[json.loads(e)["chain"]] = counts.get(json.loads(e)["chain"], 0) + 1
    k = max(counts, key=lambda c: counts[c])
    kept = [e for e in events if json.loads(e)["chain"] == k][:keep]
    last = json.loads(kept[-1])
    part = header["chains"][str(k)]
    header["chains"] = {str(k): {**part, "last": last["n"], "head": [last["n"], last["hash"]]}}
    header["anchors"] = {"first": None, "last": None, "anchor": None, "head": None}
    head = audit.canonical(header)
    digest = hashlib.sha256("".join(x + "\n" for x in [head, *kept]).encode()).hexdigest()
    footer = {**json.loads(lines[-1]), "count": keep, "anchors": 0, "sha256": digest}
    return [head, *kept, audit.canonical(footer)]


def test_a_rewritten_bundle_is_caught_by_the_checkpoint_file(db: Database, checkpoint_file: Path) -> None:
    _anchored_days_work(db)
    lines = _export(db, None, None)
    forged = _recompute(lines, keep=2)
    assert audit_bundle_check.verify_bundle(forged).ok  # alone, an offline check cannot know what was cut
    entries = audit.read_checkpoint_file(checkpoint_file)
    assert [e["anchor"] for e in entries] == [1, 2, 3]
    result = audit_bundle_check.verify_bundle(forged, entries)
    assert not result.ok and "truncated" in (result.reason or "") and "anchor 1" in (result.reason or "")
    assert audit_bundle_check.verify_bundle(lines, entries).ok


def test_a_bundle_with_anchors_checks_the_heads_they_recorded(db: Database) -> None:
    _anchored_days_work(db)
    lines = _export(db)
    assert sum(json.loads(line)["kind"] == "anchor" for line in lines) == 3
    assert audit_bundle_check.verify_bundle(lines).ok
    events = [json.loads(line) for line in lines[1:-1] if json.loads(line)["kind"] == "event"]
    k = events[-1]["chain"]
    header = json.loads(lines[0])
    # Cut the last event of a chain and restate the header: the anchors in the bundle still name it.
    last = max((e for e in events if e["chain"] == k), key=lambda e: e["n"])
    kept = [line for line in lines[1:-1] if json.loads(line).get("seq") != last["seq"] or
            json.loads(line)["kind"] != "event"]
    header["chains"][str(k)]["last"] = last["n"] - 1
    import hashlib

    head = audit.canonical(header)
    digest = hashlib.sha256("".join(x + "\n" for x in [head, *kept]).encode()).hexdigest()
    footer = {**json.loads(lines[-1]), "count": len(events) - 1, "sha256": digest}
    result = audit_bundle_check.verify_bundle([head, *kept, audit.canonical(footer)])
    assert not result.ok and f"records chain {k} at position {last['n']}" in (result.reason or "")


def test_truncated_chain_heads_and_anchors_are_found_with_the_file(db: Database, checkpoint_file: Path) -> None:
    _anchored_days_work(db)
    with unit_of_work(db) as uow:
        assert audit.verify(uow, checkpoint_file).ok
    with unit_of_work(db) as uow:  # the attacker with database access: a chain's tail, its head, the anchors
        s = uow.session
        keep = s.execute(text("SELECT hash FROM audit_event WHERE chain = 1 AND chain_seq = 2")).scalar_one()
        s.execute(text("DELETE FROM audit_event WHERE chain = 1 AND chain_seq > 2"))
        s.execute(text("UPDATE audit_chain SET seq = 2, hash = :h WHERE id = 1"), {"h": keep})
        s.execute(text("DELETE FROM audit_anchor"))
        uow.commit()
    with unit_of_work(db) as uow:
        assert audit.verify(uow).ok  # what the database alone can say
        result = audit.verify(uow, checkpoint_file)
    assert not result.ok and "checkpoint file records anchor 1 of another trail" in (result.reason or "")


def test_checkpoint_file_of_another_chain(db: Database, checkpoint_file: Path) -> None:
    _days_work(db)
    checkpoint_file.write_text(audit.canonical({"chain": "f" * 64, "seq": 5, "hash": "0" * 64, "at": "x"}) + "\n")
    with unit_of_work(db) as uow:
        assert audit.verify(uow, checkpoint_file, strict=False).ok
        strict = audit.verify(uow, checkpoint_file)
    assert not strict.ok and "another chain" in (strict.reason or "")
    checkpoint_file.write_text("garbage\n")
    with unit_of_work(db) as uow:
        assert not audit.verify(uow, checkpoint_file).ok


def test_a_rolled_back_anchor_leaves_no_line(db: Database, checkpoint_file: Path) -> None:
    with unit_of_work(db) as uow:
        audit.append(uow, [audit.NewEvent("test.event", "tester") for _ in range(7)])
        assert audit.write_checkpoint(uow) is not None
        uow.rollback()
    assert not checkpoint_file.exists() or checkpoint_file.read_text() == ""
    with unit_of_work(db) as uow:
        audit.append(uow, [audit.NewEvent("test.event", "tester") for _ in range(7)])
        written = audit.write_checkpoint(uow)
        uow.commit()
    assert written is not None and [e["anchor"] for e in audit.read_checkpoint_file(checkpoint_file)] == [1]
    with unit_of_work(db) as uow:
        head = uow.session.execute(text("SELECT seq, hash FROM audit_chain WHERE id = 0")).one()
        heads = json.loads(uow.session.execute(text("SELECT heads_json FROM audit_anchor WHERE n = 1")).scalar_one())
    assert heads == {"0": [7, head.hash]} and head.seq == 7


def test_csv_export_verifies_as_rows(db: Database) -> None:
    import csv
    import io

    _days_work(db)
    with unit_of_work(db) as uow:
        text_ = "".join(audit_bundle.export_csv(uow, DAY, DAY + timedelta(days=1)))
    rows = list(csv.DictReader(io.StringIO(text_)))
    for row in rows:
        row["seq"] = int(row["seq"])  # type: ignore[assignment]
        for key in ("instance_id", "chain", "n"):
            row[key] = int(row[key]) if row[key] else None  # type: ignore[assignment]
        for key in ("element_id", "element_name"):
            row[key] = row[key] or None  # type: ignore[assignment]
    starts: dict[int, tuple[int, str]] = {}
    for row in rows:  # each chain's slice is checked from its first event's anchor
        k, n = int(row["chain"]), int(row["n"])  # type: ignore[arg-type]
        if k not in starts or n < starts[k][0]:
            starts[k] = (n, str(row["prev_hash"]))
    assert len(starts) > 1 and audit.verify_rows(rows, chains=starts).ok  # type: ignore[arg-type]
    rows[3]["actor"] = "mallory"
    assert audit.verify_rows(rows, chains=starts).first_bad_seq == rows[3]["seq"]  # type: ignore[arg-type]
