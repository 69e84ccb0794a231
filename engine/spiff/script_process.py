"""A script process (`python -m engine.spiff.script_process`): runs the diagram code engine/spiff/isolation.py
sends it, one request at a time, and answers on its stdout. It is killed when a call passes the wall-clock
limit; RLIMIT_CPU ends it by itself should the process that feeds it be gone."""

from __future__ import annotations

import math
import os
import resource
import sys
from typing import Any, BinaryIO

from engine.spiff import isolation, limits, sandbox


def _cpu_backstop(seconds: float) -> None:
    """The CPU this process may still use: this call's limit and a little more. SIGXCPU then ends it."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds) + 1
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard == resource.RLIM_INFINITY or soft <= hard:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _answer(request: tuple[Any, ...]) -> tuple[Any, ...]:
    kind, source, context, external, seconds = request
    _cpu_backstop(seconds)
    try:
        if kind == "script":
            return ("ok", sandbox.run_script(source, context, external))
        value = sandbox.run_expression(source, context, external)
        sandbox.check_storable({"value": value})  # what comes back is no bigger than what a step may save
        return ("ok", value)
    except (sandbox.ScriptRejected, limits.LimitExceeded) as exc:
        return ("error", type(exc).__name__, [str(exc)], True)
    except Exception as exc:  # noqa: BLE001 - the script's own error, reported as the same builtin type where it is one
        args = [a if isinstance(a, (str, int, float)) else str(a) for a in exc.args]
        return ("error", type(exc).__name__, args, False)


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    answers.write(isolation.READY)
    answers.flush()
    while True:
        try:
            request = isolation.receive(requests, plain=False)
        except EOFError:
            return  # the feeding process closed the pipe or died
        answer = _answer(request)
        try:
            isolation.send(answers, answer)
        except Exception as exc:  # noqa: BLE001 - a value pickle cannot write (a function, a module)
            refused = f"the result cannot leave the script process: {type(exc).__name__}: {exc}"
            isolation.send(answers, ("error", "ScriptRejected", [refused], True))


def main() -> None:
    limits.apply_process_limits()
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # nothing else may write into the answer pipe
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
