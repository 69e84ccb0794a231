"""Shared by the Flask test-client tests and the browser tests: a database template with the demo users, a stable
`response` process and a test process with a long form, plus small helpers to drive the services.

The UI tests deploy their own copy of `response` (fixtures/response: the first, small version of the process:
record -> prioritise -> restore -> confirm -> close) so that they test the front end, not the current state of
processes/response, which the process team keeps changing; test_real_processes.py opens the shipped ones."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from engine.db.database import Database, unit_of_work
from engine.services import deploy, instances, tasks, users
from engine.services.actors import Actor
from engine.services.bundles import folder_bundle
from tests.conftest import ALICE, BOB, IVAN
from tests.support import OWNER, deploy_xml

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LONG_FORM = FIXTURES / "long_form.bpmn"
USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "admin")
INCIDENT = {"summary": "Printer on floor 3 jams", "service": "print", "query_type": "incident",
            "impact": "high", "urgency": "medium"}


def build_template(migrated: Path, target: Path) -> Path:
    """A copy of the migrated template with users seeded and the processes deployed (done once per session:
    scrypt hashing and deploying are the slow part)."""
    shutil.copy(migrated, target)
    db = Database(f"sqlite:///{target}")
    try:
        users.seed_demo_users(db)
        bundle = folder_bundle(FIXTURES / "response")
        assert bundle is not None
        deploy.deploy(db, bundle, OWNER)
        deploy_xml(db, LONG_FORM.read_text())
    finally:
        db.dispose()
    return target


def fresh_db(template: Path, folder: Path) -> Database:
    path = folder / "ui.db"
    shutil.copy(template, path)
    return Database(f"sqlite:///{path}")


def open_task(db: Database, business_key: str, element_id: str) -> dict[str, Any]:
    with unit_of_work(db) as uow:
        inst = instances.find(uow, Actor("heidi", frozenset({"auditor"})), business_key)
        found = [tasks.task_summary(t) for t in instances.tasks_of(uow, inst) if t.element_id == element_id]
    assert found, f"{element_id} is not open on {business_key}"
    return found[0]


def work(db: Database, actor: Actor, business_key: str, element_id: str, data: dict[str, Any]) -> dict[str, Any]:
    task = open_task(db, business_key, element_id)
    tasks.claim(db, actor, task["id"])
    return tasks.complete(db, actor, task["id"], data)


def closed_incident(db: Database, rework: bool = False, starter: Actor = IVAN,
                    data: dict[str, Any] | None = None) -> str:
    """An incident taken all the way to closure (optionally sent back once by the user)."""
    key = instances.start(db, starter, "response", data or {}).business_key
    work(db, ALICE, key, "record", INCIDENT)
    work(db, BOB, key, "restore", {"resolution": "cleared the jam"})
    if rework:
        work(db, IVAN, key, "confirm", {"user_confirmed": False})
        work(db, BOB, key, "restore", {"resolution": "replaced the roller"})
    work(db, IVAN, key, "confirm", {"user_confirmed": True})
    work(db, ALICE, key, "close", {"closure_note": "done"})
    return key


def seed_history(db: Database) -> dict[str, Any]:
    """A fortnight of service-desk work for the dashboard and the screenshots: records opened over the last
    days, most closed (some sent back by the user once), some open at each priority, an SLA escalation that
    fired and a task past its due time."""
    import time_machine

    from engine import clock
    from engine.services import timers

    now = clock.now()
    levels = [("high", "high"), ("high", "medium"), ("medium", "medium"), ("low", "medium"), ("medium", "low")]
    closed, open_keys = [], []
    for day in range(12):
        for n in range(1 + day % 3):
            impact, urgency = levels[(day + n) % len(levels)]
            spread = (day * 7 + n * 5) % 11  # hours: so the times to respond and resolve vary
            with time_machine.travel(now - timedelta(days=day, hours=2 + n * 3 + spread), tick=False):
                key = instances.start(db, IVAN, "response", {}).business_key
            with time_machine.travel(now - timedelta(days=day, hours=1.5 + n * 3 + spread * 0.6), tick=False):
                work(db, ALICE, key, "record", {**INCIDENT, "summary": f"Record {day}-{n}", "impact": impact,
                                                  "urgency": urgency})
            if (day + n) % 4 == 0:
                open_keys.append(key)
                continue
            with time_machine.travel(now - timedelta(days=day, hours=n * 3), tick=False):
                work(db, BOB, key, "restore", {"resolution": "fixed"})
                if (day + n) % 5 == 0:
                    work(db, IVAN, key, "confirm", {"user_confirmed": False})
                    work(db, BOB, key, "restore", {"resolution": "fixed for real"})
                work(db, IVAN, key, "confirm", {"user_confirmed": True})
                work(db, ALICE, key, "close", {"closure_note": "done"})
            closed.append(key)
    with time_machine.travel(now - timedelta(hours=5), tick=False):
        escalated = instances.start(db, IVAN, "long_form", {}).business_key
    with time_machine.travel(now - timedelta(hours=3), tick=False):
        overdue = instances.start(db, IVAN, "long_form", {}).business_key
    timers.fire_one(db)  # the earliest due: `escalated`, whose two hours passed three hours ago
    return {"closed": closed, "open": open_keys, "escalated": escalated, "overdue": overdue}
