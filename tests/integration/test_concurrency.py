"""Several writers on one PostgreSQL database: exactly one completion wins, nothing is lost."""

from __future__ import annotations

import threading

from sqlalchemy import select

from engine.db.database import Database, unit_of_work
from engine.db.models import AuditEvent
from engine.errors import Conflict
from engine.services import audit, instances, tasks
from tests.bpmn_snippets import chain, user_task
from tests.conftest import IVAN
from tests.support import deploy_xml, task_for

RACERS = 6


def test_racing_completions_of_one_task(pg_db: Database) -> None:
    db = pg_db
    deploy_xml(db, chain("p", [user_task(0), user_task(1)]))
    key = instances.start(db, IVAN, "p", {}).business_key
    task_id = task_for(db, key, "n0")["id"]
    barrier = threading.Barrier(RACERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def race(n: int) -> None:
        actor = type(IVAN)(f"agent{n}", frozenset({"service_desk"}))
        barrier.wait()
        try:
            tasks.complete(db, actor, task_id, {})
            result = "won"
        except Conflict:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * (RACERS - 1) + ["won"]
    with unit_of_work(db) as uow:
        completed = uow.session.execute(select(AuditEvent).where(AuditEvent.type == "task.completed")).all()
        assert len(completed) == 1
        assert audit.verify(uow).ok
    assert task_for(db, key, "n1")
