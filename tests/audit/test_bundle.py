"""Integrity outside the system: bundles verified offline, one flipped byte found, truncation found; the
checkpoint file finds a chain whose tail was cut together with its head row and checkpoint table."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import text

from engine.db.database import Database, unit_of_work
from engine.services import audit, audit_bundle, instances
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


def test_a_days_work_verifies_offline(db: Database, tmp_path: Path) -> None:
    _days_work(db)
    lines = _export(db)
    header, footer = json.loads(lines[0]), json.loads(lines[-1])
    events = [json.loads(line) for line in lines[1:-1]]
    assert header["first_seq"] > 1 and header["last_seq"] < header["head_seq"]  # a slice from the middle
    assert all(DAY <= datetime.fromisoformat(e["at"]) < DAY + timedelta(days=1) for e in events)
    assert footer["count"] == len(events) == header["last_seq"] - header["first_seq"] + 1
    path = tmp_path / "day.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db.dispose()  # offline: nothing below touches a database
    result = audit_bundle.verify_bundle(path)
    assert result.ok and result.events == len(events), result
    assert audit_bundle.verify_bundle(lines).ok and audit_bundle.verify_bundle(path.read_bytes()).ok


def test_a_whole_export_ends_at_the_head(db: Database) -> None:
    _days_work(db)
    lines = _export(db, None, None)
    header, footer = json.loads(lines[0]), json.loads(lines[-1])
    assert header["first_seq"] == 1 and header["anchor"] == audit.GENESIS
    assert footer["last_hash"] == header["head_hash"] and audit_bundle.verify_bundle(lines).ok


def test_an_empty_range(db: Database) -> None:
    _days_work(db)
    lines = _export(db, DAY + timedelta(days=10), DAY + timedelta(days=11))
    assert len(lines) == 2 and audit_bundle.verify_bundle(lines).ok


def _seq_at(data: bytes, position: int) -> int | None:
    """The seq of the event line holding byte `position`, None for the header and footer."""
    start = data.rfind(b"\n", 0, position) + 1
    end = data.find(b"\n", position)
    line = data[start:end]
    if b'"kind":"event"' not in line:
        return None
    return int(line.split(b'"seq":')[1].split(b",")[0])


def test_flipping_any_byte_fails_and_names_the_event(db: Database, tmp_path: Path) -> None:
    _days_work(db)
    data = ("\n".join(_export(db)) + "\n").encode("utf-8")
    step = max(1, len(data) // 400)
    positions = sorted(set(range(0, len(data), step)) | set(range(len(data) - 300, len(data))))
    checked_events = 0
    for position in positions:
        flipped = bytearray(data)
        flipped[position] ^= 0x01
        result = audit_bundle.verify_bundle(bytes(flipped))
        assert not result.ok, f"flip at byte {position} went unnoticed"
        seq = _seq_at(data, position)
        if seq is not None and data[position:position + 1] != b"\n":
            assert result.first_bad_seq == seq, (position, result)
            checked_events += 1
    assert checked_events > 100


def test_truncation_is_found(db: Database) -> None:
    _days_work(db)
    lines = _export(db)
    last = json.loads(lines[-2])["seq"]
    cut = lines[:-4] + lines[-1:]  # three events gone, footer kept
    result = audit_bundle.verify_bundle(cut)
    assert (result.ok, result.first_bad_seq) == (False, last - 2) and "truncated" in (result.reason or "")
    no_footer = audit_bundle.verify_bundle(lines[:-3])
    assert not no_footer.ok and "footer" in (no_footer.reason or "")
    assert not audit_bundle.verify_bundle(lines[:1]).ok
    assert not audit_bundle.verify_bundle([]).ok


def _recompute(lines: list[str], keep: int) -> list[str]:
    """A forger who knows the format: drops events, then rewrites header and footer consistently."""
    header = json.loads(lines[0])
    events = lines[1:1 + keep]
    last = json.loads(events[-1])
    header.update(last_seq=last["seq"], head_seq=last["seq"], head_hash=last["hash"])
    head = audit.canonical(header)
    import hashlib

    digest = hashlib.sha256("".join(x + "\n" for x in [head, *events]).encode()).hexdigest()
    footer = {"kind": "footer", "count": keep, "first_seq": header["first_seq"], "last_seq": last["seq"],
              "last_hash": last["hash"], "head_seq": last["seq"], "head_hash": last["hash"], "sha256": digest}
    return [head, *events, audit.canonical(footer)]


def test_a_rewritten_bundle_is_caught_by_the_checkpoint_file(db: Database, checkpoint_file: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "CHECKPOINT_EVERY", 10)
    _days_work(db)
    lines = _export(db, None, None)
    forged = _recompute(lines, keep=12)
    assert audit_bundle.verify_bundle(forged).ok  # alone, an offline check cannot know what was cut
    entries = audit.read_checkpoint_file(checkpoint_file)
    assert len(entries) >= 5
    result = audit_bundle.verify_bundle(forged, entries)
    assert not result.ok and result.first_bad_seq == 13 and "truncated" in (result.reason or "")
    assert audit_bundle.verify_bundle(lines, entries).ok


def _truncate_everything(db: Database, keep: int) -> None:
    """The attacker with database access: cuts the chain's tail, its checkpoints and resets the head."""
    with unit_of_work(db) as uow:
        s = uow.session
        last = s.execute(text("SELECT hash FROM audit_event WHERE seq = :n"), {"n": keep}).scalar_one()
        s.execute(text("DELETE FROM audit_event WHERE seq > :n"), {"n": keep})
        s.execute(text("DELETE FROM audit_checkpoint WHERE seq > :n"), {"n": keep})
        s.execute(text("UPDATE audit_head SET seq = :n, hash = :h WHERE id = 1"), {"n": keep, "h": last})
        uow.commit()


def test_truncated_chain_checkpoints_and_head_are_found_with_the_file(db: Database, checkpoint_file: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "CHECKPOINT_EVERY", 10)
    _days_work(db)
    with unit_of_work(db) as uow:
        assert audit.verify(uow, checkpoint_file).ok
    _truncate_everything(db, 33)
    with unit_of_work(db) as uow:
        assert audit.verify(uow).ok  # what the database alone can say
        result = audit.verify(uow, checkpoint_file)
    assert (result.ok, result.first_bad_seq) == (False, 34) and "checkpoint file" in (result.reason or "")


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


def test_a_rolled_back_step_leaves_no_checkpoint(db: Database, checkpoint_file: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "CHECKPOINT_EVERY", 3)
    with unit_of_work(db) as uow:
        audit.append(uow, [audit.NewEvent("test.event", "tester") for _ in range(7)])
        uow.rollback()
    assert not checkpoint_file.exists() or checkpoint_file.read_text() == ""
    with unit_of_work(db) as uow:
        audit.append(uow, [audit.NewEvent("test.event", "tester") for _ in range(7)])
        uow.commit()
    assert [e["seq"] for e in audit.read_checkpoint_file(checkpoint_file)] == [3, 6]
    with unit_of_work(db) as uow:
        head = uow.session.execute(text("SELECT hash FROM audit_head")).scalar_one()
        written = audit.write_checkpoint(uow)
        uow.commit()
    assert written is not None and (written["seq"], written["hash"]) == (7, head)
    assert [e["seq"] for e in audit.read_checkpoint_file(checkpoint_file)] == [3, 6, 7]


def test_csv_export_verifies_as_rows(db: Database) -> None:
    import csv
    import io

    _days_work(db)
    with unit_of_work(db) as uow:
        text_ = "".join(audit_bundle.export_csv(uow, DAY, DAY + timedelta(days=1)))
    rows = list(csv.DictReader(io.StringIO(text_)))
    for row in rows:
        row["seq"] = int(row["seq"])  # type: ignore[assignment]
        for key in ("instance_id",):
            row[key] = int(row[key]) if row[key] else None  # type: ignore[assignment]
        for key in ("element_id", "element_name"):
            row[key] = row[key] or None  # type: ignore[assignment]
    first = rows[0]
    assert audit.verify_rows(rows, prev=first["prev_hash"], first_seq=first["seq"]).ok  # type: ignore[arg-type]
