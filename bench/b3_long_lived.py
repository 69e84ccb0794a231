"""B3 long-lived instances: one instance looping through a 3-node rework cycle 1,000 times.

Run from the repo root: ``.venv/bin/python bench/b3_long_lived.py [--rounds 1000] [--window 11]``.

The loop is tests/bpmn_snippets.human_loop_process: a user task (``work``), a script (``rounds = rounds + 1``)
and an exclusive gateway back to the user task, left only when ``done`` is ticked.

* **services**: one instance on a file SQLite database, each round one ``tasks.complete`` (restore the lean state,
  run the step, compact, save, commit), as shipped (compaction in ``Runner.state``).
* **raw Spiff**: the same diagram in SpiffWorkflow (Camunda parser, default script engine), no compaction. The
  rounds between the measured windows run in memory; a measured step is restore from JSON (full spec embedded),
  complete the task, run the engine, save to JSON, the same shape as a service step. Raw Spiff runs with the
  engine's loop-depth fix (engine/spiff/depth.py, applied process-wide on import): without it, the loop stalls at
  about round 333 (SPIFF_NOTES.md) and there would be no round 1,000 to measure.

For each checkpoint (round 10, 100, 1,000) the steps of a window of rounds centred on it are timed one by one:
median and spread of ms per step, and the stored size (state_json length; raw: the JSON document) at the checkpoint.
Targets: step at round 1,000 <= 3x step at round 10; size bounded (round 1,000 within 1.25x of round 10).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from typing import Any

from common import BOB, OWNER, ROOT, Row, emit, spread, sqlite_database
from lxml import etree
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.db.database import Database, unit_of_work
from engine.db.models import ProcessInstance
from engine.services import deploy, instances, tasks
from engine.services.deploy import Bundle
from engine.spiff import depth

sys.path.insert(0, str(ROOT))
from tests.bpmn_snippets import human_loop_process  # tests/ is not an installed package

PROCESS_KEY = "bench_loop"
CHECKPOINTS = (10, 100, 1000)
TARGET_GROWTH = 3.0
TARGET_SIZE_GROWTH = 1.25


def windows(rounds: int, window: int) -> dict[int, range]:
    """The measured rounds around each checkpoint: the round numbers whose step is timed."""
    half = window // 2
    return {cp: range(max(1, cp - half), cp + half + 1) for cp in CHECKPOINTS if cp <= rounds}


def total_rounds(measured: dict[int, range]) -> int:
    return max(rng.stop - 1 for rng in measured.values())


class ServicesLoop:
    def __init__(self, db: Database, summary: str = "measured") -> None:
        self.db = db
        deploy.deploy(db, Bundle(human_loop_process(PROCESS_KEY).encode(), "loop.bpmn"), OWNER)  # once: unchanged
        self.inst = instances.start(db, BOB, PROCESS_KEY, {"rounds": 0, "summary": summary})
        with unit_of_work(db) as uow:
            self.task_id = instances.tasks_of(uow, self.inst)[0].id

    def step(self) -> None:
        result = tasks.complete(self.db, BOB, self.task_id, {"done": False})
        self.task_id = result["next_tasks"][0]["id"]

    def size(self) -> tuple[int, int]:
        with unit_of_work(self.db) as uow:
            row = uow.session.get(ProcessInstance, self.inst.id)
            assert row is not None
            return len(row.state_json), int(json.loads(row.data_json)["rounds"])


class RawLoop:
    def __init__(self) -> None:
        parser = CamundaParser()
        parser.add_bpmn_xml(etree.fromstring(human_loop_process(PROCESS_KEY).encode()), filename="loop.bpmn")
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
        self.wf = BpmnWorkflow(parser.get_spec(PROCESS_KEY), parser.get_subprocess_specs(PROCESS_KEY))
        self.wf.task_tree.data["rounds"] = 0
        self.wf.do_engine_steps()
        self.saved = self.serializer.serialize_json(self.wf)

    def _complete(self, wf: BpmnWorkflow) -> None:
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data.update({"done": False})
        task.run()
        wf.do_engine_steps()

    def step_in_memory(self) -> None:
        self._complete(self.wf)

    def save(self) -> None:
        self.saved = self.serializer.serialize_json(self.wf)

    def step(self) -> None:
        """Restore from JSON, step, save to JSON: what a host without compaction pays per step."""
        wf = self.serializer.deserialize_json(self.saved)
        self._complete(wf)
        self.saved = self.serializer.serialize_json(wf)
        self.wf = wf

    def size(self) -> tuple[int, int]:
        data: dict[str, Any] = self.wf.get_tasks(state=TaskState.READY, manual=True)[0].data
        return len(self.saved), int(data["rounds"])

    def tasks_in_tree(self) -> int:
        return len(self.wf.tasks)


def run_loop(loop: Any, measured: dict[int, range], raw: bool) -> dict[int, dict[str, Any]]:
    rounds = total_rounds(measured)
    timed = {r: cp for cp, rng in measured.items() for r in rng}
    per_cp: dict[int, dict[str, Any]] = {cp: {"ms": []} for cp in measured}
    gc.collect()
    for r in range(1, rounds + 1):
        if r in timed:
            if raw:
                loop.save()  # untimed: the previous round ran in memory, so the saved JSON must catch up
            t0 = time.perf_counter()
            loop.step()
            per_cp[timed[r]]["ms"].append((time.perf_counter() - t0) * 1000)
        elif raw:
            loop.step_in_memory()
        else:
            loop.step()
        if r in measured:
            size, counted = loop.size()
            assert counted == r, f"round {r}: the instance counted {counted}"
            per_cp[r]["size"] = size
            if raw:
                per_cp[r]["tasks"] = loop.tasks_in_tree()
    return per_cp


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--window", type=int, default=11, help="timed steps around each checkpoint")
    ap.add_argument("--no-raw", action="store_true", help="skip the raw SpiffWorkflow comparison")
    args = ap.parse_args(argv)
    assert depth.UNBOUNDED, "the loop-depth fix is applied on import of engine.spiff"

    print(__doc__.split("\n\n")[0])
    measured = windows(args.rounds, args.window)
    print(f"method: {total_rounds(measured)} rounds after a 20-round warm-up instance; each checkpoint times "
          f"the {args.window} steps of rounds "
          + ", ".join(f"{rng.start}..{rng.stop - 1}" for rng in measured.values()) + " one by one.")
    with sqlite_database("b3") as db:
        warm = ServicesLoop(db, "warm-up")
        for _ in range(20):
            warm.step()
        started = time.perf_counter()
        services = run_loop(ServicesLoop(db), measured, raw=False)
        print(f"services: {total_rounds(measured)} rounds in {time.perf_counter() - started:.1f} s")
    raw: dict[int, dict[str, Any]] = {}
    if not args.no_raw:
        started = time.perf_counter()
        raw = run_loop(RawLoop(), measured, raw=True)
        print(f"raw Spiff: {total_rounds(measured)} rounds in {time.perf_counter() - started:.1f} s")

    print()
    for cp in measured:
        s = services[cp]
        print(f"round {cp:>5}: services {spread(s['ms'], 'ms/step', 2)}, state_json {s['size']:,} bytes")
        if raw:
            w = raw[cp]
            print(f"{'':12} raw Spiff {spread(w['ms'], 'ms/step', 2)}, JSON {w['size']:,} bytes, "
                  f"{w['tasks']:,} tasks in the tree")

    first, last = min(measured), max(measured)
    step = {cp: statistics.median(services[cp]["ms"]) for cp in measured}
    growth = step[last] / step[first]
    size_growth = services[last]["size"] / services[first]["size"]
    print(f"\nservices: step at round {last} / round {first} = {growth:.2f}; "
          f"state size round {last} / round {first} = {size_growth:.2f}")
    rows = [Row(f"b3_step_{cp}", f"B3 services step at round {cp:,} (ms)", f"{step[cp]:.1f}", "-", None)
            for cp in measured]
    rows.append(Row("b3_growth", f"B3 step round {last:,} / round {first}", f"{growth:.2f}",
                    f"<= {TARGET_GROWTH:.0f}", growth <= TARGET_GROWTH))
    rows.append(Row("b3_size", f"B3 state_json at round {first} / {last:,} (bytes)",
                    f"{services[first]['size']:,} / {services[last]['size']:,}",
                    f"bounded (<= {TARGET_SIZE_GROWTH}x)", size_growth <= TARGET_SIZE_GROWTH))
    if raw:
        raw_growth = statistics.median(raw[last]["ms"]) / statistics.median(raw[first]["ms"])
        print(f"raw Spiff: step at round {last} / round {first} = {raw_growth:.1f}; JSON size round {last} / round "
              f"{first} = {raw[last]['size'] / raw[first]['size']:.1f}")
        rows.append(Row("b3_raw", f"B3 raw Spiff step at round {first} / {last:,} (ms)",
                        f"{statistics.median(raw[first]['ms']):.1f} / {statistics.median(raw[last]['ms']):.1f}",
                        "-", None))
        rows.append(Row("b3_raw_size", f"B3 raw Spiff JSON at round {first} / {last:,} (bytes)",
                        f"{raw[first]['size']:,} / {raw[last]['size']:,}", "-", None))
    emit(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
