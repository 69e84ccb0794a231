"""B10: the cost of the resource limits on diagram code, limits on against limits off in the same run.

"On" is the sandbox as the engine runs it (engine/spiff/sandbox.py): RestrictedPython with the `**`/`*`/`<<`
guards of engine/spiff/limits.py and the storable/size check of each script's result. "Off" is the same
RestrictedPython compile without the guards and without the result check. Both run under the line budget.
Run by hand: `.venv/bin/python bench/b10_script_limits.py`; prints executions per second and the ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from RestrictedPython import compile_restricted_exec  # noqa: E402

from engine.spiff import sandbox  # noqa: E402

SCRIPTS = {
    # The response process's kind of script: a lookup and a little arithmetic.
    "lookup": ('priority = {"high": {"high": "P1", "low": "P3"}, "low": {"high": "P3", "low": "P4"}}'
               '[impact][urgency]\nscore = weight * 3 + 2 ** level'),
    # Arithmetic-heavy: every `*` and `**` goes through a guard.
    "arithmetic": "total = 0\ni = 0\nwhile i < 200:\n    total += i * i + 2 ** (i % 8)\n    i += 1",
}
DATA = {"impact": "high", "urgency": "low", "weight": 4, "level": 5, "summary": "Mail is down " * 20}


class Unlimited(sandbox.SandboxEnvironment):
    """The sandbox without the limits: plain RestrictedPython policy, no result check."""

    codes: dict[str, Any] = {}

    def execute(self, script: str, context: dict[str, Any], external_context: dict | None = None) -> bool:
        code = self.codes.get(script)
        if code is None:
            code = self.codes[script] = compile_restricted_exec(script, sandbox.SCRIPT_FILENAME).code
        scope = dict(sandbox.SAFE_GLOBALS)
        scope["__builtins__"] = {**scope["__builtins__"], "pow": pow}
        scope.update(context)
        sandbox._run(code, scope)
        context.update({k: v for k, v in scope.items()
                        if not (k in sandbox._HIDDEN or k.startswith("_") or callable(v))})
        return True


def rate(env: sandbox.SandboxEnvironment, script: str, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.execute(script, dict(DATA))
        count += 1
    return count / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    args = parser.parse_args()
    on, off = sandbox.SandboxEnvironment(), Unlimited()
    print(f"{'script':<12} {'limits on /s':>14} {'limits off /s':>14} {'on/off':>8} {'added us/run':>13}")
    for name, script in SCRIPTS.items():
        rate(on, script, 0.3), rate(off, script, 0.3)  # warm-up: compile caches
        # Interleaved, twice each, so drift on a shared machine hits both sides alike.
        a1, b1 = rate(on, script, args.seconds), rate(off, script, args.seconds)
        b2, a2 = rate(off, script, args.seconds), rate(on, script, args.seconds)
        with_limits, without = (a1 + a2) / 2, (b1 + b2) / 2
        added = 1e6 / with_limits - 1e6 / without
        print(f"{name:<12} {with_limits:>14.0f} {without:>14.0f} {with_limits / without:>8.2f} {added:>13.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
