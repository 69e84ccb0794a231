"""B10: the cost of the resource limits on diagram code, limits on against limits off in the same run.

"On" is the sandbox as the engine runs it (engine/spiff/sandbox.py): RestrictedPython with the `**`/`*`/`<<`/`+`
guards of engine/spiff/limits.py, the storable/size check of each script's result, and the wall-clock limit:
code that is not cheap by its shape (engine/spiff/bounded.py) runs in a script process (engine/spiff/isolation.py).
"Off" is the same RestrictedPython compile in this process without guards, result check or script process. Both
run under the line budget.

Two measurements, each interleaved on/off so drift on a shared machine hits both alike:
* per script: executions per second of three scripts (two cheap, one with a loop that goes to a script process);
* per B1 instance: bench/reference.bpmn run by itsmflow's Runner in memory (B1's "runner in memory": sandbox,
  rules, JSON save/restore, no database), CPU ms per instance with the limits on and off. The difference is the
  limits' cost per B1 instance; `bench/run_all.py` divides it by B1's services CPU per instance from the same run
  (target: at most 10%).
Run by hand: `.venv/bin/python bench/b10_script_limits.py [--seconds 3] [--rounds 5 --instances 40]`.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from b1_throughput import MemoryRunner
from common import Row, emit, spread
from RestrictedPython import compile_restricted_eval, compile_restricted_exec

from engine.spiff import isolation, runtime, sandbox

SCRIPTS = {
    # The response process's kind of script: a lookup and a little arithmetic.
    "lookup": ('priority = {"high": {"high": "P1", "low": "P3"}, "low": {"high": "P3", "low": "P4"}}'
               '[impact][urgency]\nscore = weight * 3 + 2 ** level'),
    # Arithmetic-heavy: every `*` and `**` goes through a guard; a loop, so it runs in a script process.
    "arithmetic": "total = 0\ni = 0\nwhile i < 200:\n    total += i * i + 2 ** (i % 8)\n    i += 1",
    # A short loop: all of its cost with the limits on is the round trip to a script process.
    "short loop": "tags = [t.upper() for t in ['a', 'b', 'c']]",
}
DATA = {"impact": "high", "urgency": "low", "weight": 4, "level": 5, "summary": "Mail is down " * 20}
TARGET_SHARE = 0.10  # of B1's services CPU per instance


class Unlimited(sandbox.SandboxEnvironment):
    """The sandbox without the limits: plain RestrictedPython policy in this process, no result check."""

    codes: dict[tuple[str, str], Any] = {}

    def _code(self, source: str, mode: str) -> Any:
        code = self.codes.get((source, mode))
        if code is None:
            compiled = compile_restricted_exec if mode == "exec" else compile_restricted_eval
            code = self.codes[(source, mode)] = compiled(source, sandbox.SCRIPT_FILENAME).code
        return code

    def _scope(self, context: dict[str, Any], external_context: dict | None) -> dict[str, Any]:
        scope = dict(sandbox.SAFE_GLOBALS)
        scope["__builtins__"] = {**scope["__builtins__"], "pow": pow}
        scope.update(external_context or {})
        scope.update(context)
        return scope

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict | None = None) -> Any:
        if sandbox.literal_timer(expression) is not None or sandbox.juel.is_juel(expression):
            return super().evaluate(expression, context, external_context)
        return sandbox._run(self._code(expression, "eval"), self._scope(context, external_context))

    def execute(self, script: str, context: dict[str, Any], external_context: dict | None = None) -> bool:
        scope = self._scope(context, external_context)
        sandbox._run(self._code(script, "exec"), scope)
        context.update({k: v for k, v in scope.items()
                        if not (k in sandbox._HIDDEN or k.startswith("_") or callable(v))})
        return True


def rate(env: sandbox.SandboxEnvironment, script: str, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.execute(script, dict(DATA))
        count += 1
    return count / (time.perf_counter() - start)


def per_script(seconds: float) -> dict[str, float]:
    on, off = sandbox.SandboxEnvironment(), Unlimited()
    added: dict[str, float] = {}
    print(f"{'script':<12} {'limits on /s':>14} {'limits off /s':>14} {'on/off':>8} {'added us/run':>13}")
    for name, script in SCRIPTS.items():
        rate(on, script, 0.3), rate(off, script, 0.3)  # warm-up: compile caches, the script process
        a1, b1 = rate(on, script, seconds), rate(off, script, seconds)
        b2, a2 = rate(off, script, seconds), rate(on, script, seconds)
        with_limits, without = (a1 + a2) / 2, (b1 + b2) / 2
        added[name] = 1e6 / with_limits - 1e6 / without
        print(f"{name:<12} {with_limits:>14.0f} {without:>14.0f} {with_limits / without:>8.2f} {added[name]:>13.0f}")
    return added


def cpu_per_instance(runner: MemoryRunner, unlimited: bool, n: int) -> float:
    runtime.SandboxEnvironment = Unlimited if unlimited else sandbox.SandboxEnvironment  # type: ignore[misc]
    try:
        gc.collect()
        started = time.process_time()
        for _ in range(n):
            runner.one()
        return (time.process_time() - started) * 1000 / n
    finally:
        runtime.SandboxEnvironment = sandbox.SandboxEnvironment  # type: ignore[misc]


def per_instance(rounds: int, instances: int) -> tuple[float, float, float]:
    """CPU ms per B1 reference instance, limits on and off (medians), and the median per-round difference."""
    runner = MemoryRunner()
    assert runner.one()["priority"] == "P1"
    # CPU is this process's: say how many calls went to a script process (whose CPU would not be counted).
    calls, run = [0], isolation.run
    isolation.run = lambda request: (calls.__setitem__(0, calls[0] + 1), run(request))[1]
    try:
        runner.one()
    finally:
        isolation.run = run
    print(f"calls to a script process per instance: {calls[0]}"
          + (" (all of its code ran in this process: cheap by its shape)" if calls[0] == 0 else ""))
    for unlimited in (False, True):
        cpu_per_instance(runner, unlimited, max(5, instances // 4))  # warm-up
    on, off = [], []
    for r in range(rounds):
        order = (False, True) if r % 2 == 0 else (True, False)
        for unlimited in order:
            (off if unlimited else on).append(cpu_per_instance(runner, unlimited, instances))
        print(f"  round {r + 1}: limits on {on[-1]:.2f} ms CPU, off {off[-1]:.2f} ms CPU per instance")
    print(f"limits on:  {spread(on, 'ms CPU/instance', 2)}\nlimits off: {spread(off, 'ms CPU/instance', 2)}")
    added = statistics.median([a - b for a, b in zip(on, off, strict=True)])
    return statistics.median(on), statistics.median(off), added


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="per script measurement")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the B1 reference instance")
    parser.add_argument("--instances", type=int, default=40, help="instances per round and side")
    args = parser.parse_args()
    added = per_script(args.seconds)
    print(f"\nB1 reference process, Runner in memory: {args.rounds} rounds x {args.instances} instances per side")
    on, off, cost = per_instance(args.rounds, args.instances)
    print(f"the limits add {cost:.2f} ms CPU per instance ({cost / off:.1%} of the runner in memory without them)")
    emit([
        Row("b10_instance", "B10 limits' added CPU per B1 reference instance (ms)", f"{cost:.2f}", "-", None),
        Row("b10_runner", "B10 Runner in memory CPU per instance: limits on / off (ms)", f"{on:.2f} / {off:.2f}",
            "-", None),
        Row("b10_lookup", "B10 cheap script (lookup): added per run (µs)", f"{added['lookup']:.0f}", "-", None),
        Row("b10_isolated", "B10 script in a script process (short loop): added per run (µs)",
            f"{added['short loop']:.0f}", "-", None),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
