"""Keeps a worker process running: `itsmflow worker --supervise` starts one and starts it again when it dies,
with a growing pause if it keeps dying quickly. SIGTERM/SIGINT stop the worker and the supervisor."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

QUICK_DEATH = 10.0  # a worker that lived less than this counts as a failed start
MAX_PAUSE = 60.0


def supervise(args: list[str], echo: Callable[[str], None] = print) -> int:
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    quick_deaths = 0
    while not stop.is_set():
        started = time.monotonic()
        child = subprocess.Popen([sys.executable, "-m", "web.cli", "worker", *args])
        echo(f"supervisor: worker {child.pid} started")
        while child.poll() is None and not stop.is_set():
            stop.wait(0.5)
        if stop.is_set():
            child.terminate()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
            return 0
        lived = time.monotonic() - started
        quick_deaths = quick_deaths + 1 if lived < QUICK_DEATH else 0
        pause = min(2.0 ** quick_deaths - 1, MAX_PAUSE)
        echo(f"supervisor: worker {child.pid} exited with {child.returncode} after {lived:.0f}s; "
             f"restarting in {pause:.0f}s")
        stop.wait(pause)
    return 0
