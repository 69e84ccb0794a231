"""B1 throughput: the 12-node reference process end to end, itsmflow services on SQLite vs raw SpiffWorkflow.

Run from the repo root: ``.venv/bin/python bench/b1_throughput.py [--rounds 5] [--instances 100] [--breakdown]``.

Three runs of bench/reference.bpmn, interleaved round by round so that machine drift hits all of them alike:

* **services**: ``instances.start_view`` (what POST /instances answers) then ``tasks.complete`` twice (classify,
  then resolve), each a committed transaction on a file SQLite database (WAL, the engine's own settings): spec
  cache, sandboxed scripts, the priority table evaluated by engine/rules, human-task projection, audit chain, lean
  state JSON. Each answer carries the next task's id, as the API's do.
* **raw Spiff**: the same diagram parsed once by SpiffWorkflow's CamundaParser and run in memory with its default
  (unsandboxed) script engine; the business rule task is replaced by a script task computing the same priority
  from impact and urgency (raw Spiff has no rules engine of ours). At each wait (after start, after each human
  step) the workflow is saved with ``BpmnWorkflowSerializer`` (Camunda config, full spec embedded) and restored
  from that JSON before the next step: 3 saves and 2 restores, the same shape as the 3 commits of the services.
* **runner in memory**: itsmflow's Runner (sandbox, rules engine, compaction, lean state) with the same save and
  restore through JSON but no database: it splits the gap between raw Spiff and the services into "runtime" and
  "persistence".
* **floor**: the runner in memory plus, at each of its 3 saves, one minimal commit on the same SQLite file and
  settings (BEGIN IMMEDIATE, a one-row UPDATE, COMMIT: one WAL write and fsync): what a persisted instance cannot
  go below. The services are judged against it (ratio services / floor).

Each round runs N instances of each; instances/s and CPU ms per instance per round. Then the statements and
round trips each step sends (counted with SQLAlchemy events and at engine/db/driver.py).
Targets: services >= 150 instances/s, services / floor >= 0.75.
"""

from __future__ import annotations

import argparse
import collections
import functools
import gc
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from common import ALICE, BENCH, BOB, OWNER, PROCESSES, Row, StatementCounter, emit, spread, sqlite_database
from lxml import etree
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.db.database import Database
from engine.rules import parse_dmn
from engine.services import deploy, instances, tasks
from engine.services.decisions import DmnFile
from engine.services.deploy import Bundle
from engine.spiff.parser import parse_specs
from engine.spiff.runtime import Runner

PROCESS_KEY = "bench_reference"
TARGET_RATIO = 0.75  # of the floor
TARGET_RATE = 150.0
CLASSIFY = {"summary": "Mail is down", "impact": "high", "urgency": "high"}  # P1: the escalate branch runs too
RESOLVE = {"resolution": "restarted the mail relay"}

# The raw run's stand-in for the business rule task: the same outputs as processes/response/priority.dmn.
PRIORITY_SCRIPT = (
    'priority = {"high": {"high": "P1", "medium": "P2", "low": "P3"}, '
    '"medium": {"high": "P2", "medium": "P3", "low": "P4"}, '
    '"low": {"high": "P3", "medium": "P4", "low": "P4"}}[impact][urgency]'
)


def reference_xml() -> bytes:
    return (BENCH / "reference.bpmn").read_bytes()


def priority_dmn() -> DmnFile:
    return DmnFile("priority.dmn", (PROCESSES / "response" / "priority.dmn").read_bytes())


def deploy_reference(db: Database) -> None:
    deploy.deploy(db, Bundle(reference_xml(), "reference.bpmn", [priority_dmn()]), OWNER)


# --- raw SpiffWorkflow ------------------------------------------------------------------------------------
def raw_xml() -> bytes:
    """reference.bpmn with the business rule task swapped for a script task with the same outputs."""
    text = reference_xml().decode()
    pattern = re.compile(r'<bpmn:businessRuleTask id="prioritise"([^>]*?) camunda:decisionRef="priority">(.*?)'
                         r"</bpmn:businessRuleTask>", re.S)
    text, n = pattern.subn(lambda m: f'<bpmn:scriptTask id="prioritise"{m.group(1)} scriptFormat="python">'
                                     f"{m.group(2)}<bpmn:script>{PRIORITY_SCRIPT}</bpmn:script></bpmn:scriptTask>",
                           text)
    assert n == 1, "the reference diagram's business rule task was not found"
    return text.encode()


class RawSpiff:
    def __init__(self) -> None:
        parser = CamundaParser()
        parser.add_bpmn_xml(etree.fromstring(raw_xml()), filename="reference.bpmn")
        self.spec = parser.get_spec(PROCESS_KEY)
        self.subprocess_specs = parser.get_subprocess_specs(PROCESS_KEY)
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
        self.saved = ""

    def _save(self, wf: BpmnWorkflow) -> None:
        self.saved = self.serializer.serialize_json(wf)

    def _step(self, values: dict[str, Any]) -> BpmnWorkflow:
        wf = self.serializer.deserialize_json(self.saved)
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data.update(values)
        task.run()
        wf.do_engine_steps()
        return wf

    def one(self) -> dict[str, Any]:
        wf = BpmnWorkflow(self.spec, self.subprocess_specs)
        wf.do_engine_steps()
        self._save(wf)
        self._save(self._step(CLASSIFY))
        wf = self._step(RESOLVE)
        self._save(wf)
        assert wf.is_completed()
        return wf.last_task.data


# --- itsmflow's Runner without a database --------------------------------------------------------------------
class MemoryRunner:
    def __init__(self) -> None:
        self.spec, self.subprocess_specs = parse_specs(etree.fromstring(reference_xml()), "reference.bpmn",
                                                       PROCESS_KEY)
        model = parse_dmn(priority_dmn().xml)

        def decide(key: str, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
            evaluation = model.evaluate(key, data, version=1)
            return dict(evaluation.outputs), {"decision": key, "version": 1, "evaluation": evaluation.to_dict()}

        self.decide = decide
        self.saved = ""

    def _save(self, runner: Runner) -> None:
        self.saved = json.dumps(runner.state())

    def _step(self, values: dict[str, Any]) -> Runner:
        runner = Runner.restore(json.loads(self.saved), self.spec, self.subprocess_specs, self.decide)
        log = runner.complete(runner.ready_tasks()[0].task_id, values)
        assert log.error is None, log.error
        return runner

    def one(self) -> dict[str, Any]:
        runner = Runner.start(self.spec, self.subprocess_specs, {"business_key": "BEN-1", "started_by": "alice"},
                              self.decide)
        runner.run()
        self._save(runner)
        self._save(self._step(CLASSIFY))
        runner = self._step(RESOLVE)
        self._save(runner)
        assert runner.is_completed()
        return runner.data()


class Floor(MemoryRunner):
    """The runner in memory plus one minimal commit per save, on the services' own SQLite file and settings."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.engine = db.engine
        with self.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
            conn.exec_driver_sql("INSERT INTO bench_floor VALUES (1, 0)")

    def _save(self, runner: Runner) -> None:
        super()._save(runner)
        with self.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE bench_floor SET n = n + 1 WHERE id = 1")


# --- the services on SQLite ---------------------------------------------------------------------------------
class Services:
    def __init__(self, db: Database) -> None:
        self.db = db
        deploy_reference(db)

    def one(self) -> dict[str, Any]:
        started = instances.start_view(self.db, ALICE, PROCESS_KEY, {})  # what POST /instances answers
        result = tasks.complete(self.db, ALICE, started["tasks"][0]["id"], CLASSIFY)
        result = tasks.complete(self.db, BOB, result["next_tasks"][0]["id"], RESOLVE)
        assert result["instance"]["status"] == "completed", result["instance"]
        return result["instance"]["data"]


def rate(run: Callable[[], Any], n: int) -> tuple[float, float]:
    """Instances per second (wall clock) and CPU ms per instance (this process: immune to other load)."""
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        run()
    return n / (time.perf_counter() - started), (time.process_time() - cpu) / n * 1000


def statements_per_step(services: Services, counter: StatementCounter, n: int) -> list[tuple[str, float, float]]:
    """Statements and round trips of each step of an instance, averaged over n instances."""
    totals: dict[str, list[int]] = {"start": [0, 0], "complete (classify)": [0, 0], "complete (resolve)": [0, 0]}

    def counted(label: str, call: Callable[..., Any], *args: Any) -> Any:
        counter.reset()
        result = call(*args)
        totals[label][0] += counter.statements
        totals[label][1] += counter.round_trips
        return result

    for _ in range(n):
        started = counted("start", instances.start_view, services.db, ALICE, PROCESS_KEY, {})
        result = counted("complete (classify)", tasks.complete, services.db, ALICE, started["tasks"][0]["id"],
                         CLASSIFY)
        counted("complete (resolve)", tasks.complete, services.db, BOB, result["next_tasks"][0]["id"], RESOLVE)
    return [(label, s / n, r / n) for label, (s, r) in totals.items()]


# --- where the services' time goes (stdlib timers around the service-layer functions) -----------------------
def breakdown(services: Services, n: int) -> list[tuple[str, float, float]]:
    from engine.db import database
    from engine.services import audit, decisions, keys, policy, specs, step_tasks, stepping
    from engine.spiff import runtime

    spent: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    undo = []

    def wrap(owner: Any, name: str, label: str) -> None:
        original = owner.__dict__.get(name)
        if original is None:  # renamed since this was written: leave it out
            print(f"  (breakdown: {getattr(owner, '__name__', owner)}.{name} not found, left out)")
            return
        func = getattr(owner, name)

        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - t0
                calls[label] += 1

        setattr(owner, name, staticmethod(timed) if isinstance(original, classmethod) else timed)
        undo.append((owner, name, original))

    probes = [
        (instances, "start_view", "instances.start_view (whole call)"),
        (tasks, "complete", "tasks.complete (whole call)"),
        (stepping, "save_step", "stepping.save_step (whole call)"),
        (audit, "append", "  audit.append (hash-chained events)"),
        (step_tasks, "sync", "  step_tasks.sync (human_task rows)"),
        (stepping, "_sync_subscriptions", "  stepping._sync_subscriptions"),
        (stepping, "_insert_instance", "  stepping._insert_instance (INSERT at start)"),
        (stepping, "_update_instance", "  stepping._update_instance (UPDATE)"),
        (policy, "check_complete", "policy.check_complete"),
        (runtime.Runner, "state", "  Runner.state (compact + to dict)"),
        (database.UnitOfWork, "commit", "UnitOfWork.commit"),
        (runtime.Runner, "complete", "Runner.complete (engine steps)"),
        (runtime.Runner, "run", "Runner.run (engine steps)"),
        (runtime.Runner, "restore", "Runner.restore (from dict)"),
        (instances, "view", "instances.view (after commit)"),
        (specs, "loaded", "specs.loaded"),
        (stepping, "lock_instance", "stepping.lock_instance"),
        (stepping, "lock_instance_of_task", "stepping.lock_instance_of_task"),
        (keys, "next_key", "keys.next_key"),
        (deploy, "newest", "deploy.newest"),
        (decisions, "latest_version", "decisions.latest_version"),
    ]
    for owner, name, label in probes:
        wrap(owner, name, label)
    try:
        started = time.perf_counter()
        for _ in range(n):
            services.one()
        total = time.perf_counter() - started
    finally:
        for owner, name, original in reversed(undo):
            setattr(owner, name, original)
    rows = [("whole instance (3 transactions)", total / n * 1000, 1.0)]
    rows += [(label, spent[label] / n * 1000, calls[label] / n) for _, _, label in probes if calls[label]]
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--instances", type=int, default=100, help="instances per round and per run")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--breakdown", action="store_true", help="also time the service-layer phases")
    args = ap.parse_args(argv)

    print(__doc__.split("\n\n")[0])
    print(f"method: {args.warmup} warm-up instances each, then {args.rounds} rounds x {args.instances} instances "
          "of each run, interleaved; instances/s per round.")
    with sqlite_database("b1") as db:
        runs: dict[str, Any] = {"raw Spiff": RawSpiff(), "runner in memory": MemoryRunner(), "floor": Floor(db),
                                "services": Services(db)}
        outputs = {name: run.one() for name, run in runs.items()}
        keys = ("priority", "escalated", "sla_hours", "notified", "resolution")
        for name, out in outputs.items():
            assert {k: out.get(k) for k in keys} == {k: outputs["raw Spiff"].get(k) for k in keys}, (name, out)
        final = outputs["services"]
        print("check: all three end with the same data (" + ", ".join(f"{k}={final[k]}" for k in keys) + ")")
        for run in runs.values():
            for _ in range(args.warmup):
                run.one()
        rates: dict[str, list[float]] = {name: [] for name in runs}
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        for r in range(args.rounds):
            for name, run in runs.items():
                per_second, cpu_ms = rate(run.one, args.instances)
                rates[name].append(per_second)
                cpu[name].append(cpu_ms)
            print(f"  round {r + 1}: " + ", ".join(f"{name} {rates[name][-1]:.1f}/s ({cpu[name][-1]:.1f} ms CPU)"
                                                     for name in runs))
        for name in runs:
            print(f"{name:>17}: {spread(rates[name], 'instances/s')}; CPU {spread(cpu[name], 'ms/instance')}")
        med = {name: statistics.median(rates[name]) for name in runs}
        med_cpu = {name: statistics.median(cpu[name]) for name in runs}
        ratios = [s / f for s, f in zip(rates["services"], rates["floor"], strict=True)]
        ratio = med["services"] / med["floor"]
        print(f"ratio services / floor: {ratio:.2f} (per round {min(ratios):.2f} .. {max(ratios):.2f}); "
              f"CPU floor / services: {med_cpu['floor'] / med_cpu['services']:.2f}; "
              f"services / raw Spiff: {med['services'] / med['raw Spiff']:.2f}; "
              f"runner in memory / raw Spiff: {med['runner in memory'] / med['raw Spiff']:.2f}")
        # Counted after the timed rounds: the counter's hooks would be timed with them.
        print("\nstatements and round trips per step (SQLAlchemy's events and engine/db/driver.py; round trips = "
              "statements + COMMIT):")
        for label, n_statements, n_trips in statements_per_step(runs["services"], StatementCounter(db.engine), 20):
            print(f"  {label:<22} {n_statements:5.1f} statements  {n_trips:5.1f} round trips")
        if args.breakdown:
            print("\nwhere the services' time goes (ms per instance, inclusive; indented = inside save_step):")
            for label, ms, n_calls in breakdown(runs["services"], args.instances * 2):
                print(f"  {ms:7.2f} ms  {n_calls:4.1f} calls  {label}")

    services = med["services"]
    emit([
        Row("b1_rate", "B1 services on SQLite (instances/s)", f"{services:.0f}", f">= {TARGET_RATE:.0f}",
            services >= TARGET_RATE),
        Row("b1_floor", "B1 floor: runner in memory + 3 minimal commits (instances/s)", f"{med['floor']:.0f}",
            "-", None),
        Row("b1_ratio", "B1 ratio services / floor", f"{ratio:.2f}", f">= {TARGET_RATIO:.2f}",
            ratio >= TARGET_RATIO),
        Row("b1_cpu", "B1 CPU per instance: services / floor (ms)",
            f"{med_cpu['services']:.1f} / {med_cpu['floor']:.1f}", "-", None),
        Row("b1_raw", "B1 raw Spiff, JSON save/restore (instances/s)", f"{med['raw Spiff']:.0f}", "-", None),
        Row("b1_runner", "B1 Runner in memory, JSON save/restore (instances/s)",
            f"{med['runner in memory']:.0f}", "-", None),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
