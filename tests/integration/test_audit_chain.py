"""The hash-chained audit trail, chained per partition and anchored by the checkpoint chain: any edit,
deletion, insertion, reordering or truncation in any partition is found and named; the trail written before
the partitions (one global chain) still verifies after the migration."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.db.database import Database, unit_of_work
from engine.db.migrate import upgrade
from engine.services import audit, audit_chains, instances
from tests.bpmn_snippets import chain, user_task
from tests.conftest import ALICE, IVAN
from tests.support import deploy_xml, do


@pytest.fixture
def checkpoint_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audit-checkpoints.log"
    monkeypatch.setenv(audit.CHECKPOINT_ENV, str(path))
    return path


def _trail(db: Database) -> int:
    deploy_xml(db, chain("p", [user_task(0), user_task(1)]))
    for _ in range(4):
        key = instances.start(db, IVAN, "p", {}).business_key
        do(db, ALICE, key, "n0")
    with unit_of_work(db) as uow:
        result = audit.verify(uow)
    assert result.ok and result.events >= 20
    return result.events


def _sql(db: Database, statement: str, **params: object) -> None:
    with unit_of_work(db) as uow:
        uow.session.execute(text(statement), params)
        uow.commit()


def _verify(db: Database, checkpoints: Path | None = None) -> audit.Verification:
    with unit_of_work(db) as uow:
        return audit.verify(uow, checkpoints)


def _seq(db: Database, k: int, n: int) -> int:
    with unit_of_work(db) as uow:
        return uow.session.execute(text("SELECT seq FROM audit_event WHERE chain = :k AND chain_seq = :n"),
                                   {"k": k, "n": n}).scalar_one()


def _length(db: Database, k: int) -> int:
    with unit_of_work(db) as uow:
        return uow.session.execute(text("SELECT max(chain_seq) FROM audit_event WHERE chain = :k"), {"k": k}
                                   ).scalar_one()


def _anchor(db: Database) -> dict:
    with unit_of_work(db) as uow:
        written = audit.write_checkpoint(uow)
        uow.commit()
    assert written is not None
    return written


def test_unrelated_instances_write_to_different_chains(db: Database) -> None:
    _trail(db)
    with unit_of_work(db) as uow:
        used = dict(uow.session.execute(text("SELECT id, seq FROM audit_chain WHERE seq > 0")).all())
        per_instance = uow.session.execute(text(
            "SELECT instance_id, count(DISTINCT chain) FROM audit_event WHERE instance_id IS NOT NULL "
            "GROUP BY instance_id")).all()
    assert len(used) >= 5  # the deployment's chain and one for each of the four instances
    assert all(chains == 1 for _, chains in per_instance)  # an instance's events stay in one chain, in order


@pytest.mark.parametrize("k", [0, 2])
def test_edited_row_is_named_in_any_partition(db: Database, k: int) -> None:
    _trail(db)
    seq = _seq(db, k, 1)
    _sql(db, "UPDATE audit_event SET actor = 'mallory' WHERE seq = :s", s=seq)
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, seq) and "edited" in (result.reason or "")
    assert f"chain {k} position 1" in (result.reason or "")


def test_deleted_row_is_named(db: Database) -> None:
    _trail(db)
    after = _seq(db, 3, 3)
    _sql(db, "DELETE FROM audit_event WHERE chain = 3 AND chain_seq = 2")
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, after)
    assert "chain 3 jumps from position 1 to 3 (an event deleted)" in (result.reason or "")


def test_inserted_row_is_found_even_with_a_valid_hash(db: Database) -> None:
    _trail(db)
    shifted = _seq(db, 2, 3)
    with unit_of_work(db) as uow:
        two = uow.session.execute(text("SELECT * FROM audit_event WHERE chain = 2 AND chain_seq = 2")).one()
    # The forger knows the algorithm: later positions move up one, the new event 3 is chained onto event 2 ...
    _sql(db, "UPDATE audit_event SET chain_seq = chain_seq + 1000 WHERE chain = 2 AND chain_seq >= 3")
    _sql(db, "UPDATE audit_event SET chain_seq = chain_seq - 999 WHERE chain = 2 AND chain_seq >= 1003")
    at = two.at if isinstance(two.at, datetime) else datetime.fromisoformat(str(two.at))
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    body = audit.event_body(999_999, at, "mallory", "task.completed", two.instance_id, None, None, "{}", 2, 3)
    forged = audit.chain_hash(two.hash, body)
    _sql(db, "INSERT INTO audit_event (seq, chain, chain_seq, instance_id, at, actor, type, element_id, "
             "element_name, data_json, prev_hash, hash) VALUES (999999, 2, 3, :i, :at, 'mallory', 'task.completed', "
             "NULL, NULL, '{}', :p, :h)", i=two.instance_id, at=at, p=two.hash, h=forged)
    result = _verify(db)
    # ... so the break shows at the next event: its position is part of what its hash covers.
    assert (result.ok, result.first_bad_seq) == (False, shifted), result


def test_reordered_rows_are_found(db: Database) -> None:
    _trail(db)
    _sql(db, "UPDATE audit_event SET chain_seq = -1 WHERE chain = 1 AND chain_seq = 3")
    _sql(db, "UPDATE audit_event SET chain_seq = 3 WHERE chain = 1 AND chain_seq = 4")
    _sql(db, "UPDATE audit_event SET chain_seq = 4 WHERE chain = 1 AND chain_seq = -1")
    result = _verify(db)
    assert not result.ok and "chain 1 position 3" in (result.reason or "")


def test_truncated_tail_is_found(db: Database) -> None:
    _trail(db)
    end = _length(db, 4)
    _sql(db, "DELETE FROM audit_event WHERE chain = 4 AND chain_seq > :n", n=end - 3)
    result = _verify(db)
    assert not result.ok and "chain 4 ends at position" in (result.reason or "")
    assert "truncated" in (result.reason or "")


def test_truncation_with_the_head_row_reset_is_found_by_the_anchor(db: Database) -> None:
    _trail(db)
    _anchor(db)
    end = _length(db, 1)
    with unit_of_work(db) as uow:
        keep = uow.session.execute(text("SELECT hash FROM audit_event WHERE chain = 1 AND chain_seq = 2")
                                   ).scalar_one()
    _sql(db, "DELETE FROM audit_event WHERE chain = 1 AND chain_seq > 2")
    _sql(db, "UPDATE audit_chain SET seq = 2, hash = :h WHERE id = 1", h=keep)
    result = _verify(db)
    assert not result.ok and result.reason == (
        f"chain 1 ends at position 2 but anchor 1 records position {end} (tail truncated)")


def test_a_whole_partition_removed_is_found_by_the_anchor(db: Database) -> None:
    _trail(db)
    _anchor(db)
    _sql(db, "DELETE FROM audit_event WHERE chain = 3")
    _sql(db, "UPDATE audit_chain SET seq = 0, hash = :h WHERE id = 3", h=audit_chains.genesis(3))
    result = _verify(db)
    assert not result.ok and "chain 3 ends at position 0" in (result.reason or "")


@pytest.mark.parametrize("field", ["data_json", "type", "element_id", "instance_id", "chain"])
def test_any_field_edit_is_found(db: Database, field: str) -> None:
    _trail(db)
    seq = _seq(db, 2, 4)
    value = {"data_json": json.dumps({"form": {"approved": True}}), "instance_id": 1, "chain": 5}.get(field, "forged")
    _sql(db, f"UPDATE audit_event SET {field} = :v WHERE seq = :s", v=value, s=seq)
    result = _verify(db)
    assert not result.ok and result.first_bad_seq == seq, result


def test_the_checkpoint_chain_is_itself_checked(db: Database) -> None:
    _trail(db)
    _anchor(db)
    _anchor(db)
    _sql(db, "UPDATE audit_anchor SET heads_json = '{}' WHERE n = 1")
    assert _verify(db).reason == "anchor 1 does not match its content (edited)"
    _sql(db, "DELETE FROM audit_anchor WHERE n = 1")
    assert not _verify(db).ok


def test_anchors_cut_together_with_a_chain_are_found_with_the_checkpoint_file(
        db: Database, checkpoint_file: Path) -> None:
    _trail(db)
    first = _anchor(db)
    deploy_xml(db, chain("q", [user_task(0)]))
    key = instances.start(db, IVAN, "q", {}).business_key
    second = _anchor(db)
    assert (first["anchor"], second["anchor"]) == (1, 2) and _verify(db, checkpoint_file).ok
    with unit_of_work(db) as uow:  # the attacker with database access: the last record, its anchor, its head
        inst = instances.find(uow, IVAN, key)
        k = audit_chains.chain_of(inst.id)
        uow.session.execute(text("DELETE FROM audit_event WHERE chain = :k"), {"k": k})
        uow.session.execute(text("UPDATE audit_chain SET seq = 0, hash = :h WHERE id = :k"),
                            {"h": audit_chains.genesis(k), "k": k})
        uow.session.execute(text("DELETE FROM audit_anchor WHERE n = 2"))
        uow.commit()
    # Anchor 1 was taken before that record existed, so the database alone cannot tell. The file can: it
    # recorded anchor 2.
    assert _verify(db).ok
    result = _verify(db, checkpoint_file)
    assert not result.ok and "the checkpoint chain ends at anchor 1 but the checkpoint file records anchor 2" in (
        result.reason or "")


def test_a_trail_from_before_the_partitions_still_verifies(tmp_path: Path) -> None:
    """A database whose trail was written as one global chain (chain NULL, the audit_head row), migrated."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "catalogue_12")
    db = Database(url)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    prev = audit.GENESIS
    with unit_of_work(db) as uow:  # the events as the code before the partitions wrote them
        for seq in range(1, 6):
            body = audit.event_body(seq, at + timedelta(seconds=seq), "alice", "test.event", None, None, None, "{}")
            digest = audit.chain_hash(prev, body)
            uow.session.execute(text(
                "INSERT INTO audit_event (seq, instance_id, at, actor, type, element_id, element_name, data_json, "
                "prev_hash, hash) VALUES (:s, NULL, :at, 'alice', 'test.event', NULL, NULL, '{}', :p, :h)"),
                {"s": seq, "at": at + timedelta(seconds=seq), "p": prev, "h": digest})
            prev = digest
        uow.session.execute(text("UPDATE audit_head SET seq = 5, hash = :h WHERE id = 1"), {"h": prev})
        uow.commit()
    db.dispose()
    upgrade(url)
    db = Database(url)
    try:
        with unit_of_work(db) as uow:
            audit.append(uow, [audit.NewEvent("test.after", "bob", None)])
            uow.commit()
        assert _verify(db).ok and _verify(db).events == 6
        assert _seq(db, 0, 1) == 6  # new events continue the numbering, in their own chain
        anchored = _anchor(db)
        with unit_of_work(db) as uow:
            heads = json.loads(uow.session.execute(text("SELECT heads_json FROM audit_anchor")).scalar_one())
        assert anchored["anchor"] == 1 and heads["legacy"] == [5, prev]
        _sql(db, "UPDATE audit_event SET actor = 'mallory' WHERE seq = 3")
        assert (_verify(db).ok, _verify(db).first_bad_seq) == (False, 3)
        _sql(db, "UPDATE audit_event SET actor = 'alice' WHERE seq = 3")
        _sql(db, "DELETE FROM audit_event WHERE seq = 5")
        _sql(db, "UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_event WHERE seq = 4)")
        result = _verify(db)
        assert not result.ok and "anchor 1 records the earlier trail at seq 5" in (result.reason or "")
    finally:
        db.dispose()
