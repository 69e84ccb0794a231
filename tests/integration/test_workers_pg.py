"""Several worker processes on one PostgreSQL database: a worker killed mid-run loses and doubles nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select, text

from engine.db.database import Database, unit_of_work
from engine.db.models import AuditEvent, ProcessInstance
from engine.errors import Conflict
from engine.services import audit, instances, tasks, timers
from tests.bpmn_snippets import HEAD, chain, user_task
from tests.conftest import IVAN
from tests.support import deploy_xml, task_for

ROOT = Path(__file__).resolve().parents[2]
INSTANCES = 500


def _process(duration: str) -> str:
    return chain("sla", [user_task(0, name="Respond"), user_task(1, name="Resolve")], extra=(
        '<bpmn:boundaryEvent id="breach" attachedToRef="n0" cancelActivity="false"><bpmn:timerEventDefinition>'
        f'<bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
        '<bpmn:scriptTask id="note"><bpmn:script>escalations = escalations + 1</bpmn:script></bpmn:scriptTask>'
        '<bpmn:endEvent id="noted"/>'
        '<bpmn:sequenceFlow id="e1" sourceRef="breach" targetRef="note"/>'
        '<bpmn:sequenceFlow id="e2" sourceRef="note" targetRef="noted"/>'))


def _parallel(duration: str) -> str:
    """People work on one branch while a timer waits on the other: both touch the same instance."""
    return (f'{HEAD}<bpmn:process id="race" isExecutable="true"><bpmn:startEvent id="s"/>'
            '<bpmn:parallelGateway id="fork"/><bpmn:parallelGateway id="join"/>'
            '<bpmn:userTask id="work" camunda:candidateGroups="service_desk"/>'
            '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
            f'<bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
            '<bpmn:scriptTask id="note"><bpmn:script>noted = True</bpmn:script></bpmn:scriptTask>'
            '<bpmn:endEvent id="e"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="fork"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="work"/>'
            '<bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="wait"/>'
            '<bpmn:sequenceFlow id="f4" sourceRef="wait" targetRef="note"/>'
            '<bpmn:sequenceFlow id="f5" sourceRef="work" targetRef="join"/>'
            '<bpmn:sequenceFlow id="f6" sourceRef="note" targetRef="join"/>'
            '<bpmn:sequenceFlow id="f7" sourceRef="join" targetRef="e"/></bpmn:process></bpmn:definitions>')


def _worker(url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ITSMFLOW_DATABASE_URL": url, "ITSMFLOW_SECRET_KEY": "w"}
    return subprocess.Popen([sys.executable, "-m", "web.cli", "worker", "--interval", "0.2"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _url(db: Database) -> str:
    return f"{db.url}?options=-csearch_path%3D{db.schema}"  # type: ignore[attr-defined]


def _fired_counts(db: Database) -> Counter[int]:
    with unit_of_work(db) as uow:
        rows = uow.session.execute(select(AuditEvent.instance_id).where(AuditEvent.type == "timer.fired")).all()
    return Counter(r[0] for r in rows)


def test_killed_worker_loses_and_doubles_nothing(pg_db: Database) -> None:
    db = pg_db
    deploy_xml(db, _process("PT12S"))
    for _ in range(INSTANCES):
        instances.start(db, IVAN, "sla", {"escalations": 0})
    url = _url(db)
    workers = [_worker(url) for _ in range(3)]
    try:
        deadline = time.monotonic() + 120
        while sum(_fired_counts(db).values()) < 40 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers[0].send_signal(signal.SIGKILL)  # mid-run, possibly holding a row lock
        workers[0].wait()
        workers[0] = _worker(url)
        # Wait for every timer (the last ones fall due up to 12 s after their instance started), then a little
        # longer, so a timer fired twice would show.
        while sum(_fired_counts(db).values()) < INSTANCES and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1.5)
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=30)
    counts = _fired_counts(db)
    assert len(counts) == INSTANCES and set(counts.values()) == {1}, Counter(counts.values())
    assert timers.status(db)["due_timers"] == 0
    with unit_of_work(db) as uow:
        statuses = Counter(uow.session.execute(select(ProcessInstance.status)).scalars())
        assert statuses == {"running": INSTANCES}
        # Nothing is left locked: every row can be locked at once without waiting.
        uow.session.execute(text("SELECT id FROM process_instance FOR UPDATE NOWAIT")).all()
        notes = Counter(uow.session.execute(select(AuditEvent.instance_id).where(
            AuditEvent.type == "element.completed", AuditEvent.element_id == "note")).scalars())
    assert len(notes) == INSTANCES and set(notes.values()) == {1}  # each escalation ran exactly once
    with unit_of_work(db) as uow:
        assert audit.verify(uow, None, strict=False).ok  # the kill broke no link of the trail


def test_completions_race_with_workers_without_lost_updates(pg_db: Database) -> None:
    db = pg_db
    deploy_xml(db, _parallel("PT3S"))
    keys = [instances.start(db, IVAN, "race", {}).business_key for _ in range(50)]
    task_ids = [task_for(db, key, "work")["id"] for key in keys]
    time.sleep(3.2)  # the boundary timers are now due: workers and people hit the same instances
    url = _url(db)
    workers = [_worker(url) for _ in range(2)]
    errors: list[BaseException] = []
    conflicts: list[str] = []

    def complete(task_id: str) -> None:
        agent = type(IVAN)("agent", frozenset({"service_desk"}))
        for _ in range(20):
            try:
                tasks.complete(db, agent, task_id, {})
                return
            except Conflict as exc:  # documented: the worker stepped the same instance first; retry
                conflicts.append(exc.message)
                time.sleep(0.05)
            except BaseException as exc:  # noqa: BLE001 - anything else fails the test below
                errors.append(exc)
                return

    threads = [threading.Thread(target=complete, args=(tid,)) for tid in task_ids]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deadline = time.monotonic() + 60
        while sum(_fired_counts(db).values()) < len(keys) and time.monotonic() < deadline:
            time.sleep(0.3)
        time.sleep(1)
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=30)
    assert errors == []
    counts = _fired_counts(db)
    assert len(counts) == 50 and set(counts.values()) == {1}
    with unit_of_work(db) as uow:
        for inst in uow.session.execute(select(ProcessInstance)).scalars():
            trail = uow.session.execute(select(AuditEvent.type, AuditEvent.actor, AuditEvent.at, AuditEvent.element_id)
                                        .where(AuditEvent.instance_id == inst.id).order_by(AuditEvent.seq)).all()
            kinds = Counter(row[0] for row in trail)
            assert kinds["task.completed"] == 1 and kinds["timer.fired"] == 1, trail
            # Every step is one revision, none lost or skipped: the start is revision 1 and each later step adds
            # one. A step writes its events with one timestamp, so the steps are the distinct times. A completion
            # made after the timer fell due fires it in the same step (2 steps in all); otherwise a worker fired
            # it in a step of its own (3).
            steps = len({row[2] for row in trail})
            assert steps in (2, 3) and inst.revision == steps, (inst.business_key, inst.revision, steps, trail)
            assert inst.status == "completed" and '"noted": true' in inst.data_json
