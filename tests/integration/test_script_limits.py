"""Resource limits for diagram code (issue 11, finding 4): constant bombs refused at deploy; heavy single
operations, oversized results, engine loops without a wait state and memory bombs each fail only their own
instance, with the reason."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.db.database import Database
from engine.errors import DomainError
from engine.services import instances
from engine.spiff import limits
from tests.bpmn_snippets import chain, loop_process, script_task
from tests.conftest import IVAN
from tests.support import data, deploy_xml, events, instance, task_ids

ROOT = Path(__file__).resolve().parents[2]
WORK = '<bpmn:userTask id="n1" camunda:candidateGroups="service_desk"/>'


def _scripted(key: str, script: str) -> str:
    return chain(key, [script_task(0, script), WORK])


@pytest.mark.parametrize("script", ["x = 10 ** 5000", "x = 10 ** 10 ** 10", "x = 'ab' * 10 ** 9",
                                    "x = [0] * (10 ** 8)", "x = 1 << 10 ** 8"])
def test_constant_bombs_are_refused_at_deploy(sqlite_db: Database, script: str) -> None:
    with pytest.raises(DomainError) as refused:
        deploy_xml(sqlite_db, _scripted("bomb", script))
    (problem,) = refused.value.details["problems"]
    assert problem["element_id"] == "n0" and "past the limit" in problem["message"]


RUNTIME_BOMBS = {
    "pow(3, 10 ** 9)": ("x = pow(3, 10 ** 9)", {}, "3 ** 1000000000"),
    "power from data": ("x = 3 ** n", {"n": 10 ** 9}, "more than 4300 digits"),
    "20 MB string": ("x = 'a' * n", {"n": 20_000_000}, "repeating a str"),
    "huge result": ("x = 'a' * 900000\ny = x + x", {}, "a step may save at most"),
}


@pytest.mark.parametrize("name", list(RUNTIME_BOMBS))
def test_runtime_bombs_fail_their_instance_with_the_reason(db: Database, name: str) -> None:
    script, start, reason = RUNTIME_BOMBS[name]
    deploy_xml(db, _scripted("bomb", script))
    deploy_xml(db, _scripted("fine", "x = 2 ** 10 * 3\ny = 'ab' * 3"))
    key = instances.start(db, IVAN, "bomb", start).business_key
    view = instance(db, key)
    assert view["status"] == "error" and reason in view["error"]["message"] and view["error"]["element_id"] == "n0"
    assert "x" not in view["data"]  # nothing of the refused result was saved
    assert reason in events(db, key, "instance.errored")[-1]["data"]["message"]
    ok = instances.start(db, IVAN, "fine", {}).business_key
    assert data(db, ok)["x"] == 3072 and data(db, ok)["y"] == "ababab" and task_ids(db, ok) == ["n1"]


def test_a_loop_without_a_wait_state_stops_at_the_step_cap(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_ENGINE_STEPS", 300)
    deploy_xml(db, loop_process("endless", 10 ** 9))
    deploy_xml(db, loop_process("short", 50), key="short")
    key = instances.start(db, IVAN, "endless", {}).business_key
    view = instance(db, key)
    assert view["status"] == "error" and "more than 300 elements completed in one step" in view["error"]["message"]
    assert task_ids(db, instances.start(db, IVAN, "short", {}).business_key) == ["review"]


def test_a_memory_bomb_fails_its_instance_not_the_worker(sqlite_db: Database) -> None:
    db = sqlite_db
    timer = ('<bpmn:intermediateCatchEvent id="n0"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1S'
             '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
    deploy_xml(db, chain("bomb", [timer, script_task(1, "x = 'a'.ljust(n)"), WORK.replace("n1", "n2")]))
    deploy_xml(db, chain("fine", [timer, script_task(1, "ok = True"), WORK.replace("n1", "n2")]))
    bomb = instances.start(db, IVAN, "bomb", {"n": 4 * 10 ** 9}).business_key
    fine = instances.start(db, IVAN, "fine", {}).business_key
    env = {**os.environ, "ITSMFLOW_DATABASE_URL": db.url, "ITSMFLOW_SECRET_KEY": "w", "ITSMFLOW_MEMORY_LIMIT_MB": "700"}
    worker = subprocess.Popen([sys.executable, "-m", "web.cli", "worker", "--interval", "0.2"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (task_ids(db, fine) != ["n2"] or instance(db, bomb)["status"] != "error"):
            time.sleep(0.3)
        assert worker.poll() is None, "the worker died"
    finally:
        worker.terminate()
        worker.wait(20)
    assert task_ids(db, fine) == ["n2"]
    view = instance(db, bomb)
    assert view["status"] == "error" and "MemoryError" in view["error"]["message"]
