"""Retention: finished instances lose their engine state, keep their data, audit trail and path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from engine.db.database import Database, unit_of_work
from engine.db.models import ProcessInstance
from engine.errors import BadRequest, NotAllowed
from engine.services import archive, audit, conformance, instances
from tests.bpmn_snippets import chain, user_task
from tests.conftest import ADMIN, ALICE, CAROL, IVAN
from tests.support import AUDITOR, deploy_xml, do

START = datetime(2026, 2, 2, 9, tzinfo=UTC)


def _row(db: Database, key: str) -> ProcessInstance:
    with unit_of_work(db) as uow:
        return uow.session.execute(select(ProcessInstance).where(ProcessInstance.business_key == key)).scalar_one()


def _path_and_trail(db: Database, key: str) -> tuple[dict, list[dict]]:
    with unit_of_work(db) as uow:
        inst = instances.find(uow, AUDITOR, key)
        return instances.path(uow, inst), [audit.event_view(e) for e in audit.instance_events(uow, inst.id)]


def _setup(db: Database) -> dict[str, str]:
    with time_machine.travel(START, tick=False):
        deploy_xml(db, chain("p", [user_task(0), user_task(1)]))
        done = instances.start(db, IVAN, "p", {"summary": "kept"}).business_key
        do(db, ALICE, done, "n0")
        do(db, ALICE, done, "n1")
        cancelled = instances.start(db, IVAN, "p", {}).business_key
        instances.cancel(db, CAROL, cancelled, "duplicate")
        running = instances.start(db, IVAN, "p", {}).business_key
    with time_machine.travel(START + timedelta(days=3), tick=False):
        recent = instances.start(db, IVAN, "p", {}).business_key
        do(db, ALICE, recent, "n0")
        do(db, ALICE, recent, "n1")
    return {"done": done, "cancelled": cancelled, "running": running, "recent": recent}


def test_archive_keeps_data_trail_and_path(db: Database) -> None:
    keys = _setup(db)
    before = {name: _path_and_trail(db, key) for name, key in keys.items()}
    old_state = _row(db, keys["done"]).state_json
    with time_machine.travel(START + timedelta(days=5), tick=False):
        result = archive.archive(db, ADMIN, START + timedelta(days=1))
    assert sorted(result.archived) == sorted([keys["done"], keys["cancelled"]]) and result.bytes_freed > 0
    done = _row(db, keys["done"])
    marker = json.loads(done.state_json)
    assert archive.is_archived(done) and marker["archived"] is True
    assert marker["state_bytes"] == len(old_state.encode())
    assert json.loads(done.data_json)["summary"] == "kept" and done.status == "completed"
    assert not archive.is_archived(_row(db, keys["running"])) and not archive.is_archived(_row(db, keys["recent"]))
    for name, key in keys.items():
        path, trail = _path_and_trail(db, key)
        assert path == before[name][0]
        archived = [e for e in trail if e["type"] == "instance.archived"]
        assert trail[:len(before[name][1])] == before[name][1]
        assert len(archived) == (1 if name in ("done", "cancelled") else 0)
    event = next(e for e in _path_and_trail(db, keys["done"])[1] if e["type"] == "instance.archived")
    assert event["actor"] == "admin" and event["data"]["state_sha256"] == marker["state_sha256"]
    with unit_of_work(db) as uow:
        assert audit.verify(uow).ok
        assert conformance.report(uow) == []
    with time_machine.travel(START + timedelta(days=5), tick=False):
        assert archive.archive(db, ADMIN, START + timedelta(days=1)).archived == []  # nothing twice


def test_archived_records_still_read_and_refuse_changes(db: Database) -> None:
    keys = _setup(db)
    with time_machine.travel(START + timedelta(days=5), tick=False):
        archive.archive(db, ADMIN, START + timedelta(days=4))
    with unit_of_work(db) as uow:
        view = instances.view(uow, instances.find(uow, AUDITOR, keys["recent"]))
    assert view["status"] == "completed" and view["business_key"] == keys["recent"]
    with pytest.raises(BadRequest):
        instances.cancel(db, CAROL, keys["done"], "again")


def test_only_admins_and_no_future_cut_off(db: Database) -> None:
    with pytest.raises(NotAllowed):
        archive.archive(db, CAROL, datetime.now(UTC) - timedelta(days=1))
    with pytest.raises(BadRequest):
        archive.archive(db, ADMIN, datetime.now(UTC) + timedelta(days=1))


def test_limit(db: Database) -> None:
    _setup(db)
    with time_machine.travel(START + timedelta(days=5), tick=False):
        assert len(archive.archive(db, ADMIN, START + timedelta(days=4), limit=1).archived) == 1
        assert len(archive.archive(db, ADMIN, START + timedelta(days=4)).archived) == 2
