"""B4 HTTP: gunicorn on PostgreSQL, 32 concurrent clients starting instances and completing tasks, beside its floor.

Run from the repo root: ``.venv/bin/python bench/b4_http.py [--clients 32] [--duration 60] [--warmup 5]
[--configs sync:2,gthread:2x4]``. Needs PostgreSQL (ITSMFLOW_BENCH_POSTGRES_URL, default
postgresql://postgres@127.0.0.1:5432/test); works in a fresh schema (passed to gunicorn as
``?options=-csearch_path%3D<schema>`` in ITSMFLOW_DATABASE_URL) dropped afterwards.

Set-up: migrate the schema, seed the demo users (engine.services.users.seed_demo_users), deploy a 1-task process
(start, a user task for service_desk with a required field, end), make an API token for alice (service_desk).
For each gunicorn configuration (worker class and count; ``sync:2`` is ``gunicorn -k sync -w 2``,
``gthread:2x4`` is ``-k gthread -w 2 --threads 4``), two phases one after the other: **itsmflow**
(``web.wsgi:app``) and its **floor** (bench/floor_app.py: the same two requests answered by a trivial Flask app
that runs the same diagram with itsmflow's Runner in memory and commits one row per request, same gunicorn
settings, same pool settings, same clients). The ratio itsmflow / floor is the figure to compare between runs.

Load: N closed-loop clients in one asyncio process (stdlib streams, HTTP/1.1, a new connection per request).
Each client repeats: POST /api/v1/instances, then POST /api/v1/tasks/<id>/complete for each task in the answer.
After a warm-up, every request that ends inside the measured window counts. Reported per phase: completions/s,
requests/s, latency p50/p95/p99, 5xx count, other failures, and the CPU per request of the gunicorn workers
and of the PostgreSQL backends serving them (bench/cpu.py: found by application_name, sampled through the
window). Targets: >= 150 completions/s, p95 <= 100 ms, zero 5xx, <= 4 ms of app CPU a request.
With closed-loop clients, mean latency = clients / request rate (Little's law): p95 <= 100 ms with 32 clients
needs well over 320 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import BENCH, OWNER, ROOT, Row, emit, percentile, pg_reachable, pg_schema
from cpu import Backends, CpuWindow, Usage, children, cpu_busy

from engine.services import deploy, users
from engine.services.deploy import Bundle

sys.path.insert(0, str(ROOT))
from tests.bpmn_snippets import chain, constraint, user_task
from tests.bpmn_snippets import field as form_field

PROCESS_KEY = "bench_http"
TARGET_RATE = 150.0
TARGET_P95_MS = 100.0
TARGET_APP_MS = 4.0


def one_task_process() -> bytes:
    fields = form_field("note", constraints=constraint("required"))
    return chain(PROCESS_KEY, [user_task(0, "service_desk", fields=fields, name="Handle")]).encode()


@dataclass
class Stats:
    window: tuple[float, float] = (0.0, 0.0)
    latencies: list[float] = field(default_factory=list)
    completions: list[float] = field(default_factory=list)
    status: dict[int, int] = field(default_factory=dict)
    all_5xx: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    usage: dict[str, Usage] = field(default_factory=dict)

    def inside(self, t: float) -> bool:
        return self.window[0] <= t <= self.window[1]


async def request(port: int, method: str, path: str, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    payload = json.dumps(body).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
            + payload)
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    head, _, content = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    try:
        return status, json.loads(content) if content else None
    except ValueError:
        return status, None


async def timed_request(port: int, token: str, stats: Stats, method: str, path: str,
                        body: dict[str, Any]) -> tuple[int, Any, float]:
    """One request, counted in `stats` when it ends inside the measured window: (status, answer, end time)."""
    t0 = time.perf_counter()
    try:
        status, answer = await request(port, method, path, token, body)
    except (OSError, ValueError, IndexError) as exc:
        status, answer = -1, None
        stats.failures[type(exc).__name__] = stats.failures.get(type(exc).__name__, 0) + 1
    t1 = time.perf_counter()
    if status >= 500:
        stats.all_5xx += 1
    if stats.inside(t1):
        stats.latencies.append((t1 - t0) * 1000)
        stats.status[status] = stats.status.get(status, 0) + 1
    return status, answer, t1


async def client(port: int, token: str, stats: Stats, stop_at: float) -> None:
    async def timed(method: str, path: str, body: dict[str, Any]) -> tuple[int, Any, float]:
        return await timed_request(port, token, stats, method, path, body)

    while time.perf_counter() < stop_at:
        status, inst, _ = await timed("POST", "/api/v1/instances", {"process": PROCESS_KEY, "data": {}})
        if status != 201:
            await asyncio.sleep(0.01)
            continue
        for task in inst.get("tasks", []):
            t0 = time.perf_counter()
            status, _, t1 = await timed("POST", f"/api/v1/tasks/{task['id']}/complete", {"data": {"note": "done"}})
            if status == 200 and stats.inside(t1):
                stats.completions.append((t1 - t0) * 1000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen[bytes], workers: int, ready: Path, timeout: float = 180.0) -> None:
    """Until gunicorn listens and every worker has loaded the app (bench/gunicorn_ready.py)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        if len(list(ready.iterdir())) >= workers:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn's workers did not become ready")


def gunicorn(args: list[str], app: list[str], env: dict[str, str], workers: int, port: int
             ) -> subprocess.Popen[bytes]:
    """Starts gunicorn (bench/gunicorn_ready.py tells when each worker has loaded the app) and waits for it."""
    ready = Path(tempfile.mkdtemp(prefix="itsmflow-bench-ready-"))
    cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(BENCH / "gunicorn_ready.py"),
           "-b", f"127.0.0.1:{port}", *args, *app]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**env, "ITSMFLOW_BENCH_READY_DIR": str(ready)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(port, proc, workers, ready)
    except RuntimeError:
        stop(proc)
        raise
    finally:
        shutil.rmtree(ready, ignore_errors=True)
    return proc


@dataclass(frozen=True)
class Config:
    """A gunicorn setting measured: worker class, worker processes, threads per worker (gthread)."""

    worker_class: str
    workers: int
    threads: int = 1

    @classmethod
    def parse(cls, text: str) -> Config:
        kind, _, count = text.strip().partition(":")
        workers, _, threads = count.partition("x")
        return cls(kind, int(workers or 2), int(threads or (4 if kind == "gthread" else 1)))

    @property
    def label(self) -> str:
        return f"{self.worker_class} -w {self.workers}" + (f" --threads {self.threads}" if self.threads > 1 else "")

    def args(self) -> list[str]:
        args = ["-k", self.worker_class, "-w", str(self.workers)]
        return args + (["--threads", str(self.threads)] if self.worker_class == "gthread" else [])

    def env(self) -> dict[str, str]:
        """The engine's own pool settings (engine/db/database.py), as `make run` has them."""
        return {}


def serve(app: str, config: Config, url: str, extra_env: dict[str, str] | None = None
          ) -> tuple[subprocess.Popen[bytes], int]:
    """gunicorn serving `app` (web.wsgi:app, or the floor) on a free port, once every worker is ready."""
    port = free_port()
    env = {**os.environ, "ITSMFLOW_DATABASE_URL": url, "ITSMFLOW_SECRET_KEY": "bench-secret", **config.env(),
           **(extra_env or {})}
    where = ["--pythonpath", str(BENCH), "floor_app:app"] if app == "floor" else ["web.wsgi:app"]
    return gunicorn(config.args(), where, env, config.workers, port), port


def stop(proc: subprocess.Popen[bytes]) -> str:
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err.decode(errors="replace")


def floor_env(xml: bytes, key: str) -> dict[str, str]:
    path = Path(tempfile.gettempdir()) / f"itsmflow-bench-floor-{os.getpid()}.bpmn"
    path.write_bytes(xml)
    return {"ITSMFLOW_BENCH_FLOOR_BPMN": str(path), "ITSMFLOW_BENCH_FLOOR_KEY": key}


def make_floor_table(db: Any) -> None:
    from floor_app import FLOOR_TABLE

    with db.engine.begin() as conn:
        conn.exec_driver_sql(FLOOR_TABLE)


async def load(port: int, token: str, clients: int, warmup: float, duration: float, window: CpuWindow,
               run_client: Any = None) -> Stats:
    start = time.perf_counter()
    stats = Stats(window=(start + warmup, start + warmup + duration))

    async def measure_cpu() -> None:
        await asyncio.sleep(warmup)
        await asyncio.to_thread(window.start)
        await asyncio.sleep(duration)
        stats.usage = await asyncio.to_thread(window.stop)

    run_client = run_client or client
    await asyncio.gather(measure_cpu(), *(run_client(port, token, stats, stats.window[1]) for _ in range(clients)))
    return stats


@dataclass
class Phase:
    """One measured window of one server."""

    label: str
    stats: Stats
    seconds: float
    log: str = ""

    @property
    def rate(self) -> float:
        return len(self.stats.completions) / self.seconds

    @property
    def requests(self) -> int:
        return len(self.stats.latencies)

    def p(self, q: float) -> float:
        return percentile(self.stats.latencies or [0.0], q)

    def cpu(self, group: str) -> float:
        return self.stats.usage.get(group, Usage()).per(self.requests)

    def report(self) -> None:
        st = self.stats
        other = sum(n for s, n in st.status.items() if s < 200 or 300 <= s < 500)
        print(f"  {self.label}: {self.rate:.1f} completions/s, {self.requests / self.seconds:.1f} requests/s; "
              f"p50 {self.p(50):.0f} ms, p95 {self.p(95):.0f} ms, p99 {self.p(99):.0f} ms; "
              f"5xx {st.all_5xx}, other failures {other + sum(st.failures.values())}")
        pg = st.usage.get("postgres", Usage())
        print(f"    CPU per request: app {self.cpu('app'):.1f} ms, PostgreSQL {self.cpu('postgres'):.1f} ms "
              f"({pg.processes} backends seen, {pg.born} opened and {pg.ended} closed in the window)")
        if st.all_5xx or "Traceback" in self.log:
            tail = self.log.strip().splitlines()[-25:]
            print(f"    server log: {self.log.count('Traceback')} traceback(s); the end of it:\n      "
                  + "\n      ".join(tail))


def run_phase(app: str, config: Config, url: str, schema: str, token: str, args: argparse.Namespace,
              extra_env: dict[str, str] | None = None, run_client: Any = None) -> Phase:
    proc, port = serve(app, config, url, extra_env)
    backends = Backends(url, schema)
    try:
        window = CpuWindow({"app": lambda: children(proc.pid), "postgres": backends})
        stats = asyncio.run(load(port, token, args.clients, args.warmup, args.duration, window, run_client))
    finally:
        log = stop(proc)
        backends.close()
    return Phase(f"{'itsmflow' if app == 'web' else 'floor':<8} {config.label}", stats, args.duration, log)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--configs", default="gthread:2x4",
                    help="gunicorn settings to measure, e.g. sync:2,gthread:2x4,sync:4,gthread:4x4 (the first is "
                         "the one reported in the summary)")
    ap.add_argument("--no-floor", action="store_true", help="skip the floor phases")
    args = ap.parse_args(argv)
    configs = [Config.parse(c) for c in args.configs.split(",") if c.strip()]
    print(__doc__.split("\n\n")[0])
    ok, why = pg_reachable()
    if not ok:
        print(f"B4 not run: PostgreSQL unreachable ({why})")
        emit([Row("b4_rate", f"B4 HTTP completions/s (gunicorn {configs[0].label}, PostgreSQL)",
                  "not run: PostgreSQL unreachable", f">= {TARGET_RATE:.0f}", None)])
        return 0

    phases: list[tuple[Config, Phase, Phase | None]] = []
    with pg_schema() as (db, schema, url):
        users.seed_demo_users(db)
        xml = one_task_process()
        deploy.deploy(db, Bundle(xml, "bench_http.bpmn"), OWNER)
        token = users.create_token(db, "alice")
        make_floor_table(db)
        db.dispose()
        print(f"method: {args.clients} closed-loop clients, {args.warmup:.0f} s warm-up, {args.duration:.0f} s "
              f"measured per phase; schema {schema}")
        busy0, total0 = cpu_busy()
        for config in configs:
            real = run_phase("web", config, url, schema, token, args)
            real.report()
            floor = None
            if not args.no_floor:
                floor = run_phase("floor", config, url, schema, token, args, floor_env(xml, PROCESS_KEY))
                floor.report()
            phases.append((config, real, floor))
        busy1, total1 = cpu_busy()

    print(f"\nmachine CPU busy during the run: {100 * (busy1 - busy0) / max(1, total1 - total0):.0f}% of "
          f"{os.cpu_count()} cores; load average now {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print("\nside by side (ratio = itsmflow / floor; CPU in ms per request, app + PostgreSQL):")
    print(f"  {'gunicorn':<26} {'compl/s':>8} {'p95 ms':>7} {'CPU':>11} | {'floor/s':>8} {'p95 ms':>7} "
          f"{'CPU':>11} | {'ratio':>5} {'CPU ratio':>9}")
    for config, real, floor in phases:
        cpu = real.cpu("app") + real.cpu("postgres")
        line = (f"  {config.label:<26} {real.rate:8.1f} {real.p(95):7.0f} "
                f"{real.cpu('app'):5.1f}+{real.cpu('postgres'):<5.1f}")
        if floor is not None:
            fcpu = floor.cpu("app") + floor.cpu("postgres")
            line += (f" | {floor.rate:8.1f} {floor.p(95):7.0f} {floor.cpu('app'):5.1f}+{floor.cpu('postgres'):<5.1f}"
                     f" | {real.rate / max(0.01, floor.rate):5.2f} {fcpu / max(0.01, cpu):9.2f}")
        print(line)
    config, real, floor = phases[0]
    label = config.label
    app_ms, pg_ms, p95 = real.cpu("app"), real.cpu("postgres"), real.p(95)
    errors_5xx = sum(r.stats.all_5xx for _, r, _ in phases)
    other = sum(n for s, n in real.stats.status.items() if s < 200 or 300 <= s < 500)
    rows = [
        Row("b4_rate", f"B4 HTTP completions/s (gunicorn {label}, PostgreSQL)", f"{real.rate:.0f}",
            f">= {TARGET_RATE:.0f}", real.rate >= TARGET_RATE),
        Row("b4_p95", "B4 HTTP p95 latency, all requests (ms)", f"{p95:.0f}", f"<= {TARGET_P95_MS:.0f}",
            p95 <= TARGET_P95_MS),
        Row("b4_5xx", "B4 HTTP 5xx responses (whole run, every setting)", f"{errors_5xx}", "0", errors_5xx == 0),
        Row("b4_other", "B4 HTTP other failures (4xx, connection)", f"{other + sum(real.stats.failures.values())}",
            "-", None),
        Row("b4_cpu", "B4 CPU per request: app + PostgreSQL (ms)", f"{app_ms:.1f} + {pg_ms:.1f}",
            f"app <= {TARGET_APP_MS:.0f}", app_ms <= TARGET_APP_MS),
    ]
    if floor is not None:
        fcpu = floor.cpu("app") + floor.cpu("postgres")
        rows += [
            Row("b4_floor", "B4 floor: trivial Flask + Runner + 1 commit a request (completions/s)",
                f"{floor.rate:.0f}", "-", None),
            Row("b4_floor_cpu", "B4 floor CPU per request: app + PostgreSQL (ms)",
                f"{floor.cpu('app'):.1f} + {floor.cpu('postgres'):.1f}", "-", None),
            Row("b4_ratio", "B4 ratio to the floor: completions/s, CPU per request (floor / itsmflow)",
                f"{real.rate / max(0.01, floor.rate):.2f}, {fcpu / max(0.01, app_ms + pg_ms):.2f}", "-", None),
        ]
    emit(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
