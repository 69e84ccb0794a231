"""CPU used by groups of processes inside a measured window, for the HTTP benchmarks (B4, B9).

Each group is a function returning the pids that belong to it now (gunicorn's workers, the timer workers, the
PostgreSQL backends serving the run's schema). A sampler thread reads utime + stime from /proc/<pid>/stat
(world-readable, so the postgres user's backends are readable too) at the window's start, every `every`
seconds and at its end. A process first seen after the start was born inside the window and counts from
zero; one that ends inside it loses at most its last interval. Earlier versions read the backends only at the
start and the end and counted only those present at both, which missed every backend a pool opened during
the window: that is why B4 and B9 printed 0 ms of PostgreSQL CPU.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by one process; None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


class Backends:
    """The pids of the PostgreSQL backends whose application_name is `name` (the benchmark's schema), read
    over one connection kept for the run (its own backend is left out)."""

    def __init__(self, url: str, name: str) -> None:
        from sqlalchemy import create_engine

        self.engine = create_engine(url, pool_size=1, max_overflow=0)
        self.name = name

    def __call__(self) -> list[int]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = :a "
                                          "AND pid <> pg_backend_pid()"), {"a": self.name}).scalars())

    def close(self) -> None:
        self.engine.dispose()


@dataclass
class Usage:
    seconds: float = 0.0
    processes: int = 0  # seen in the window
    born: int = 0  # first seen after the window's start
    ended: int = 0  # gone before its end

    def per(self, count: int) -> float:
        """ms per unit (request, step)."""
        return 1000 * self.seconds / max(1, count)


@dataclass
class CpuWindow:
    groups: dict[str, Callable[[], list[int]]]
    every: float = 0.5
    _first: dict[str, dict[int, float]] = field(default_factory=dict)
    _last: dict[str, dict[int, float]] = field(default_factory=dict)
    _gone: dict[str, set[int]] = field(default_factory=dict)
    _born: dict[str, set[int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _sample(self, first: bool) -> None:
        for name, find in self.groups.items():
            seen = self._last.setdefault(name, {})
            start = self._first.setdefault(name, {})
            now: dict[int, float] = {}
            for pid in find():
                used = process_cpu(pid)
                if used is not None:
                    now[pid] = used
            for pid, used in now.items():
                if pid not in seen:
                    start[pid] = used if first else 0.0
                    if not first:
                        self._born.setdefault(name, set()).add(pid)
                seen[pid] = used
            self._gone.setdefault(name, set()).update(p for p in seen if p not in now)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample(first=False)

    def start(self) -> None:
        self._sample(first=True)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, Usage]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample(first=False)
        result = {}
        for name in self.groups:
            start, last = self._first.get(name, {}), self._last.get(name, {})
            result[name] = Usage(sum(last[p] - start[p] for p in last), len(last), len(self._born.get(name, set())),
                                 len(self._gone.get(name, set())))
        return result
