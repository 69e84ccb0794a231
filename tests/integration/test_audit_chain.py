"""The hash-chained audit trail: any edit, deletion, insertion, reordering or truncation is found."""

from __future__ import annotations

import json
from datetime import UTC

import pytest
from sqlalchemy import text

from engine.db.database import Database, unit_of_work
from engine.services import audit, instances
from tests.bpmn_snippets import chain, user_task
from tests.conftest import ALICE, IVAN
from tests.support import deploy_xml, do


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


def _verify(db: Database) -> audit.Verification:
    with unit_of_work(db) as uow:
        return audit.verify(uow)


def test_edited_row_is_named(db: Database) -> None:
    _trail(db)
    _sql(db, "UPDATE audit_event SET actor = 'mallory' WHERE seq = 7")
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, 7) and "edited" in (result.reason or "")


def test_deleted_row_is_named(db: Database) -> None:
    _trail(db)
    _sql(db, "DELETE FROM audit_event WHERE seq = 9")
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, 9)


def test_inserted_row_is_found_even_with_a_valid_hash(db: Database) -> None:
    _trail(db)
    with unit_of_work(db) as uow:
        rows = {r.seq: r for r in uow.session.execute(text("SELECT * FROM audit_event ORDER BY seq"))}
    # The forger knows the algorithm: the new row 5 is chained correctly onto row 4 ...
    _sql(db, "UPDATE audit_event SET seq = seq + 1000 WHERE seq >= 5")
    _sql(db, "UPDATE audit_event SET seq = seq - 999 WHERE seq >= 1005")
    four = rows[4]
    from datetime import datetime

    at = datetime.fromisoformat(str(four.at)) if not isinstance(four.at, datetime) else four.at
    if at.tzinfo is None:

        at = at.replace(tzinfo=UTC)
    body = audit.event_body(5, at, "mallory", "task.completed", None, None, None, "{}")
    forged = audit.chain_hash(four.hash, body)
    _sql(db, "INSERT INTO audit_event (seq, instance_id, at, actor, type, element_id, element_name, data_json, "
             "prev_hash, hash) VALUES (5, NULL, :at, 'mallory', 'task.completed', NULL, NULL, '{}', :p, :h)",
         at=at, p=four.hash, h=forged)
    result = _verify(db)
    # ... so the break shows at the next row, whose prev_hash no longer matches.
    assert (result.ok, result.first_bad_seq) == (False, 6)


def test_reordered_rows_are_found(db: Database) -> None:
    _trail(db)
    _sql(db, "UPDATE audit_event SET seq = -1 WHERE seq = 10")
    _sql(db, "UPDATE audit_event SET seq = 10 WHERE seq = 11")
    _sql(db, "UPDATE audit_event SET seq = 11 WHERE seq = -1")
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, 10)


def test_truncated_tail_is_found(db: Database) -> None:
    total = _trail(db)
    _sql(db, "DELETE FROM audit_event WHERE seq > :n", n=total - 3)
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, total - 2) and "truncated" in (result.reason or "")


@pytest.mark.parametrize("field", ["data_json", "type", "element_id"])
def test_any_field_edit_is_found(db: Database, field: str) -> None:
    _trail(db)
    value = json.dumps({"form": {"approved": True}}) if field == "data_json" else "forged"
    _sql(db, f"UPDATE audit_event SET {field} = :v WHERE seq = 12", v=value)
    assert _verify(db).first_bad_seq == 12
