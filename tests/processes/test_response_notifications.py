"""The shipped response process tells its requester when the record is resolved, with a link to confirm
(the confirm step declares `notification` = `record_resolved`)."""

from __future__ import annotations

import pytest

from engine.db.database import Database, unit_of_work
from engine.services import notifications, users
from tests.conftest import ALICE, IVAN
from tests.processes.response_support import new_record
from tests.support import deploy_process, do, task_for


@pytest.fixture
def db(scenario_db: Database) -> Database:
    deploy_process(scenario_db, "response")
    users.seed_demo_users(scenario_db)
    return scenario_db


def test_the_requester_is_asked_to_confirm_a_resolution(db: Database) -> None:
    key = new_record(db, start={"query_type": "incident", "reporter": "ivan"})
    do(db, ALICE, key, "restore_first_line", {"resolution": "restarted the spooler", "resolved_first_line": True})
    with unit_of_work(db) as uow:
        notes, _ = notifications.listing(uow, IVAN)
    resolved = [n for n in notes if n["kind"] == "record_resolved"]
    assert len(resolved) == 1 and key in resolved[0]["subject"]
    assert resolved[0]["link"] == f"/tasks/{task_for(db, key, 'confirm')['id']}"
    assert not [n for n in notes if n["kind"] == "task_assigned"]  # one notice, the right kind
