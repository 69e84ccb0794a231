"""Real worker processes under faults: a dropped database connection and poisoned instances leave the worker
running and every healthy timer fired; a killed worker is started again by its supervisor (issue 11)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, select, text

from engine.db.database import Database, unit_of_work
from engine.db.models import WorkerHeartbeat
from engine.services import audit, instances, timers
from tests.bpmn_snippets import chain, script_task
from tests.conftest import IVAN, PG_URL, _sa_url
from tests.support import deploy_xml, instance, task_ids

ROOT = Path(__file__).resolve().parents[2]
TIMER = ('<bpmn:intermediateCatchEvent id="n0"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1S'
         '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
WORK = '<bpmn:userTask id="n2" camunda:candidateGroups="service_desk"/>'


def _timed(key: str, script: str) -> str:
    return chain(key, [TIMER, script_task(1, script), WORK])


def _spawn(url: str, *args: str, timeout_ms: int = 2000) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ITSMFLOW_DATABASE_URL": url, "ITSMFLOW_SECRET_KEY": "w",
           "ITSMFLOW_SCRIPT_TIMEOUT_MS": str(timeout_ms)}
    return subprocess.Popen([sys.executable, "-m", "web.cli", "worker", "--interval", "0.2", *args], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _until(check: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_worker_survives_dropped_connections_and_poison(pg_db: Database) -> None:
    db = pg_db
    app_name = f"itsmflow-test-worker-{uuid.uuid4().hex[:8]}"
    url = f"{db.url}?options=-csearch_path%3D{db.schema}&application_name={app_name}"  # type: ignore[attr-defined]
    deploy_xml(db, _timed("healthy", "fired = True"))
    deploy_xml(db, _timed("quits", "raise SystemExit(0)"))
    deploy_xml(db, _timed("bignum", "n = 5000\nx = 10 ** n"))
    deploy_xml(db, _timed("slow", "y = math.factorial(10 ** 7) > 0"))  # one long C call: stopped at the limit
    first = [instances.start(db, IVAN, "healthy", {}).business_key for _ in range(5)]
    poisoned = {key: instances.start(db, IVAN, key, {}).business_key for key in ("quits", "bignum", "slow")}
    worker = _spawn(url, timeout_ms=300)
    admin = create_engine(_sa_url(PG_URL), isolation_level="AUTOCOMMIT")
    try:
        assert _until(lambda: all(task_ids(db, k) == ["n2"] for k in first))
        assert worker.poll() is None, "the worker exited on a poisoned instance"
        def drop() -> bool:
            with admin.connect() as conn:
                return bool(conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                              "WHERE application_name = :name"), {"name": app_name}).all())

        for _ in range(3):  # drop the worker's connections, several times over, each once it has reconnected
            assert _until(drop, 30), "the worker had no connection to drop (it did not reconnect)"
            time.sleep(0.5)
        later = [instances.start(db, IVAN, "healthy", {}).business_key for _ in range(5)]
        assert _until(lambda: all(task_ids(db, k) == ["n2"] for k in later)), "timers stopped after the drop"
        assert worker.poll() is None, "the worker died with its connection"
        assert _until(lambda: all(instance(db, k)["status"] == "error" for k in poisoned.values()))
    finally:
        _stop(worker)
        admin.dispose()
    reasons = {"quits": "SystemExit", "bignum": "past the limit", "slow": "ran past 300 ms"}
    for process, key in poisoned.items():
        assert reasons[process] in instance(db, key)["error"]["message"], process
    # Nothing lost or stuck: every healthy instance went past its timer, no timer is left due.
    assert all(task_ids(db, k) == ["n2"] and instance(db, k)["status"] == "running" for k in first + later)
    assert timers.status(db)["due_timers"] == 0
    with unit_of_work(db) as uow:
        assert audit.verify(uow, None, strict=False).ok


def _worker_pids(db: Database) -> set[int]:
    with unit_of_work(db) as uow:
        return {int(w.split(":")[-1]) for w in uow.session.execute(select(WorkerHeartbeat.worker_id)).scalars()}


def test_supervisor_starts_a_killed_worker_again(sqlite_db: Database) -> None:
    db = sqlite_db
    deploy_xml(db, _timed("healthy", "fired = True"))
    supervisor = _spawn(db.url, "--supervise")
    try:
        assert _until(lambda: bool(_worker_pids(db)), 30), "no worker started"
        (first,) = _worker_pids(db)
        assert first != supervisor.pid  # the worker is the supervisor's child
        os.kill(first, signal.SIGKILL)
        assert _until(lambda: len(_worker_pids(db)) == 2, 30), "the killed worker was not started again"
        key = instances.start(db, IVAN, "healthy", {}).business_key
        assert _until(lambda: task_ids(db, key) == ["n2"], 30)  # and the new one fires timers
    finally:
        _stop(supervisor)
    assert supervisor.returncode == 0
    (second,) = _worker_pids(db) - {first}
    assert not _alive(second), "stopping the supervisor left its worker running"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child reaped by its parent is gone; a zombie still answers kill 0 - look at its state.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"
