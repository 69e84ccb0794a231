"""A wall-clock limit on diagram code (issue 11, finding 4): one long C call that no line budget or signal can
stop (a huge factorial, sorting or summing a huge list, a long text search, comparing shared structures) is
stopped at ITSMFLOW_SCRIPT_TIMEOUT_MS by killing its script process. The instance goes into error with the reason
in its trail; the process running the engine, web or worker, carries on and healthy timers still fire."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.db.database import Database
from engine.services import instances
from engine.spiff import isolation, limits, sandbox
from tests.bpmn_snippets import chain, script_task
from tests.conftest import IVAN
from tests.support import data, deploy_xml, events, instance, task_ids

ROOT = Path(__file__).resolve().parents[2]
WORK = '<bpmn:userTask id="n1" camunda:candidateGroups="service_desk"/>'
TIMEOUT_MS = 300
STOPPED = f"ran past {TIMEOUT_MS} ms and was stopped"
BIG_LIST = "x = [3, 1, 2] * 300000\nx = x + x + x + x + x + x + x + x + x + x\n"  # 9 million items
BIG_TEXT = "s = 'a' * 1000000\ns = s + s + s + s + s + s + s + s\ns = s + s + s + s + s + s + s + s\n"  # 64 MB
BOMBS = {  # each runs for tens of seconds unstopped (docs/security.md has the figures)
    "factorial": ("y = math.factorial(10 ** 7) > 0", {}),
    "sorted": (BIG_LIST + "y = len(sorted(x))", {}),
    "sum": (BIG_LIST + "y = sum(x)", {}),
    "text search": (BIG_TEXT + "y = ('a' * 999999 + 'b') in s", {}),
    # Looks cheap (no loop, no call): `*` on a list hands it to a script process, where the comparison of a
    # million shared 100 kB strings runs into the limit.
    "shared parts": ("y = [d] * 1000000 == [e] * 1000000", {"d": "z" * 100_000, "e": "z" * 100_000}),
}


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(limits, "SCRIPT_TIMEOUT_MS", TIMEOUT_MS)
    monkeypatch.setenv("ITSMFLOW_MEMORY_LIMIT_MB", "1024")  # script processes started from here on
    isolation.reset()
    yield
    isolation.reset()


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_a_long_call_is_stopped_and_fails_only_its_instance(db: Database, short_timeout: None, bomb: str) -> None:
    script, start = BOMBS[bomb]
    deploy_xml(db, chain("bomb", [script_task(0, script), WORK]))
    deploy_xml(db, chain("fine", [script_task(0, "total = 0\nfor i in range(100):\n    total += i"), WORK]))
    key = instances.start(db, IVAN, "bomb", start).business_key
    view = instance(db, key)
    assert view["status"] == "error" and view["error"]["element_id"] == "n0"
    assert STOPPED in view["error"]["message"] and "ITSMFLOW_SCRIPT_TIMEOUT_MS" in view["error"]["message"]
    assert STOPPED in events(db, key, "instance.errored")[-1]["data"]["message"]
    assert "y" not in view["data"]
    ok = instances.start(db, IVAN, "fine", {}).business_key  # a loop: it runs in a script process too
    assert data(db, ok)["total"] == 4950 and task_ids(db, ok) == ["n1"]


def test_the_limit_holds_in_any_thread(short_timeout: None) -> None:
    """Web requests may run outside the main thread, where no signal handler can run: the limit needs none."""
    failures: list[str] = []

    def run() -> None:
        try:
            sandbox.SandboxEnvironment().execute(BOMBS["factorial"][0], {})
        except sandbox.ScriptRejected as exc:
            failures.append(str(exc))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(60)
    assert not worker.is_alive() and len(failures) == 1 and STOPPED in failures[0]


def test_code_in_a_script_process_reads_and_writes_data_as_in_process(short_timeout: None) -> None:
    script = ("due = opened + timedelta(hours=sum([h for h in hours]))\ntags = [t.upper() for t in tags]\n"
              "del scratch")
    context = {"opened": sandbox.datetime(2026, 1, 2, 9), "hours": [1, 2], "tags": ["a"], "scratch": 1, "keep": 2}
    assert not sandbox.is_cheap(script, "exec")
    sandbox.SandboxEnvironment().execute(script, context)
    assert context == {"opened": sandbox.datetime(2026, 1, 2, 9), "hours": [1, 2], "tags": ["A"], "keep": 2,
                       "due": sandbox.datetime(2026, 1, 2, 12)}
    env = sandbox.SandboxEnvironment()
    with pytest.raises(NameError):  # the script's own error keeps its type
        env.evaluate("[n for n in missing]", {})
    with pytest.raises(sandbox.ScriptRejected, match="imports are not allowed"):
        env.execute("for i in [1]:\n    import os", {})


def test_shipped_diagrams_run_in_process(short_timeout: None) -> None:
    """Every script and condition of the bundled processes is cheap by its shape: no round trip on the hot path."""
    from lxml import etree

    sources = []
    for path in sorted((ROOT / "processes").glob("*/*.bpmn")):
        for element in etree.parse(str(path)).iter("{*}script", "{*}conditionExpression"):
            text = (element.text or "").strip()
            if text and not text.startswith("${"):
                sources.append((text, "exec" if element.tag.endswith("}script") else "eval"))
    assert len(sources) > 20
    assert [s for s, mode in sources if not sandbox.is_cheap(s, mode)] == []


def test_cheap_code_that_grows_is_handed_over(short_timeout: None) -> None:
    env = sandbox.SandboxEnvironment()
    context = {"items": [1, 2], "name": "x"}
    env.execute("both = items + items\ngreeting = 'hello ' + name", context)  # `+` of lists: run again elsewhere
    assert context["both"] == [1, 2, 1, 2] and context["greeting"] == "hello x"
    assert env.evaluate("items * 2", context) == [1, 2, 1, 2]


def test_a_worker_stops_a_long_script_and_keeps_firing_timers(sqlite_db: Database) -> None:
    db = sqlite_db
    timer = ('<bpmn:intermediateCatchEvent id="n0"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1S'
             '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
    after = WORK.replace("n1", "n2")
    deploy_xml(db, chain("bomb", [timer, script_task(1, BOMBS["factorial"][0]), after]))
    deploy_xml(db, chain("fine", [timer, script_task(1, "ok = True"), after]))
    bomb = instances.start(db, IVAN, "bomb", {}).business_key
    fine = [instances.start(db, IVAN, "fine", {}).business_key for _ in range(3)]
    env = {**os.environ, "ITSMFLOW_DATABASE_URL": db.url, "ITSMFLOW_SECRET_KEY": "w",
           "ITSMFLOW_SCRIPT_TIMEOUT_MS": str(TIMEOUT_MS)}
    worker = subprocess.Popen([sys.executable, "-m", "web.cli", "worker", "--interval", "0.2"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (all(task_ids(db, k) == ["n2"] for k in fine)
                                                   and instance(db, bomb)["status"] == "error"):
            time.sleep(0.3)
        assert worker.poll() is None, "the worker died"
        later = instances.start(db, IVAN, "fine", {}).business_key  # timers still fire after the kill
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and task_ids(db, later) != ["n2"]:
            time.sleep(0.3)
        assert task_ids(db, later) == ["n2"] and worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(20)
    assert all(task_ids(db, k) == ["n2"] for k in fine)
    view = instance(db, bomb)
    assert view["status"] == "error" and STOPPED in view["error"]["message"]
    assert STOPPED in events(db, bomb, "instance.errored")[-1]["data"]["message"]


def test_a_script_process_holds_no_secrets(short_timeout: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITSMFLOW_SECRET_KEY", "s3cret-key")
    monkeypatch.setenv("ITSMFLOW_DATABASE_URL", "postgresql://app:pw@db/itsm")
    monkeypatch.setenv("PGPASSWORD", "pw")
    isolation.reset()
    isolation.warm()
    (process,) = isolation._pool.idle
    environ = Path(f"/proc/{process.proc.pid}/environ").read_bytes().split(b"\0")
    names = {entry.split(b"=", 1)[0].decode() for entry in environ if entry}
    assert not names & {"ITSMFLOW_SECRET_KEY", "ITSMFLOW_DATABASE_URL", "PGPASSWORD"}
    assert "ITSMFLOW_MEMORY_LIMIT_MB" in names  # its own limits still reach it
