"""B4 HTTP: gunicorn with 2 workers on PostgreSQL, 32 concurrent clients starting instances and completing tasks.

Run from the repo root: ``.venv/bin/python bench/b4_http.py [--clients 32] [--duration 60] [--warmup 5]``.
Needs PostgreSQL (ITSMFLOW_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test); works in a fresh
schema (passed to gunicorn as ``?options=-csearch_path%3D<schema>`` in ITSMFLOW_DATABASE_URL) dropped afterwards.

Set-up: migrate the schema, seed the demo users (engine.services.users.seed_demo_users), deploy a 1-task process
(start, a user task for service_desk with a required field, end), make an API token for alice (service_desk),
start ``.venv/bin/gunicorn -w 2 -b 127.0.0.1:<free port> web.wsgi:app`` (sync workers, as ``make run``).

Load: N closed-loop clients in one asyncio process (stdlib streams, HTTP/1.1, a new connection per request since
gunicorn's sync workers close each one). Each client repeats: POST /api/v1/instances, then POST
/api/v1/tasks/<id>/complete for each task in the answer. After a warm-up, every request that ends inside the
measured window counts. Reported: completions/s, requests/s, latency p50/p95/p99 (all requests; completions
alone), 5xx count, other failures, and the machine's CPU use in the window (the client shares the 2 cores).
Targets: >= 150 completions/s, p95 <= 100 ms, zero 5xx.
With closed-loop clients, mean latency = clients / request rate (Little's law): p95 <= 100 ms with 32 clients
needs well over 320 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import OWNER, ROOT, Row, emit, percentile, pg_reachable, pg_schema

from engine.services import deploy, users
from engine.services.deploy import Bundle

sys.path.insert(0, str(ROOT))
from tests.bpmn_snippets import chain, constraint, user_task  # noqa: E402
from tests.bpmn_snippets import field as form_field

PROCESS_KEY = "bench_http"
TARGET_RATE = 150.0
TARGET_P95_MS = 100.0


def one_task_process() -> bytes:
    fields = form_field("note", constraints=constraint("required"))
    return chain(PROCESS_KEY, [user_task(0, "service_desk", fields=fields, name="Handle")]).encode()


@dataclass
class Stats:
    window: tuple[float, float] = (0.0, 0.0)
    cpu: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    completions: list[float] = field(default_factory=list)
    status: dict[int, int] = field(default_factory=dict)
    all_5xx: int = 0
    failures: dict[str, int] = field(default_factory=dict)

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


async def client(port: int, token: str, stats: Stats, stop_at: float) -> None:
    async def timed(method: str, path: str, body: dict[str, Any]) -> tuple[int, Any, float]:
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


TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by one process, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def backends(url: str, schema: str) -> list[int]:
    """The PostgreSQL backend pids serving this benchmark's schema (application_name = schema)."""
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    try:
        with eng.connect() as conn:
            return list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = :a "
                                          "AND pid <> pg_backend_pid()"), {"a": schema}).scalars())
    finally:
        eng.dispose()


def cpu_snapshot(master: int, url: str, schema: str) -> dict[str, dict[int, float]]:
    return {"app": {p: process_cpu(p) for p in children(master)},
            "postgres": {p: process_cpu(p) for p in backends(url, schema)}}


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    return {kind: sum(after[kind][p] - before[kind].get(p, 0.0) for p in after[kind] if p in before[kind])
            for kind in after}


def cpu_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start listening")


async def load(port: int, token: str, clients: int, warmup: float, duration: float,
               snapshot: Any) -> Stats:
    start = time.perf_counter()
    stats = Stats(window=(start + warmup, start + warmup + duration))

    async def measure_cpu() -> None:
        """CPU used by the gunicorn workers and their PostgreSQL backends inside the window."""
        await asyncio.sleep(warmup)
        before = await asyncio.to_thread(snapshot)
        await asyncio.sleep(duration)
        stats.cpu = cpu_used(before, await asyncio.to_thread(snapshot))

    await asyncio.gather(measure_cpu(), *(client(port, token, stats, stats.window[1]) for _ in range(clients)))
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    print(__doc__.split("\n\n")[0])
    ok, why = pg_reachable()
    if not ok:
        print(f"B4 not run: PostgreSQL unreachable ({why})")
        emit([Row("b4_rate", "B4 HTTP completions/s (gunicorn -w 2, PostgreSQL)", "not run: PostgreSQL unreachable",
                  f">= {TARGET_RATE:.0f}", None)])
        return 0

    with pg_schema() as (db, schema, url):
        users.seed_demo_users(db)
        deploy.deploy(db, Bundle(one_task_process(), "bench_http.bpmn"), OWNER)
        token = users.create_token(db, "alice")
        db.dispose()
        port = free_port()
        env = {**os.environ, "ITSMFLOW_DATABASE_URL": url, "ITSMFLOW_SECRET_KEY": "bench-secret"}
        cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
               "web.wsgi:app"]
        print(f"server: {' '.join(cmd[1:])} (schema {schema})")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_ready(port, proc)
            print(f"method: {args.clients} closed-loop clients, {args.warmup:.0f} s warm-up, "
                  f"{args.duration:.0f} s measured")
            busy0, total0 = cpu_busy()
            cpu0 = time.process_time()
            stats = asyncio.run(load(port, token, args.clients, args.warmup, args.duration,
                                     lambda: cpu_snapshot(proc.pid, url, schema)))
            busy1, total1 = cpu_busy()
            client_cpu = time.process_time() - cpu0
        finally:
            proc.terminate()
            try:
                _, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
        errors_5xx = stats.all_5xx  # warm-up and tail included
        other = sum(n for s, n in stats.status.items() if s < 200 or 300 <= s < 500)
        log = err.decode(errors="replace")
        if errors_5xx or "Traceback" in log:
            tail = log.strip().splitlines()[-25:]
            print(f"server log: {log.count('Traceback')} traceback(s); the end of it:\n  " + "\n  ".join(tail))
        with db.engine.connect() as conn:
            done = conn.exec_driver_sql("SELECT count(*) FROM process_instance WHERE status = 'completed'").scalar()

    window = args.duration
    rate = len(stats.completions) / window
    lat = stats.latencies or [0.0]
    comp = stats.completions or [0.0]
    p95 = percentile(lat, 95)
    machine_busy = 100 * (busy1 - busy0) / max(1, total1 - total0)
    print(f"\nrequests in window: {len(stats.latencies):,} ({len(stats.latencies) / window:.1f}/s); "
          f"status counts {dict(sorted(stats.status.items()))}; connection failures {stats.failures or 0}")
    print(f"completions: {len(stats.completions):,} in {window:.0f} s = {rate:.1f}/s "
          f"(instances completed in the database overall, warm-up and tail included: {done:,})")
    print(f"latency, all requests: p50 {percentile(lat, 50):.1f} ms, p95 {p95:.1f} ms, "
          f"p99 {percentile(lat, 99):.1f} ms; completions alone: p50 {percentile(comp, 50):.1f} ms, "
          f"p95 {percentile(comp, 95):.1f} ms")
    print(f"machine CPU busy in the run: {machine_busy:.0f}% of {os.cpu_count()} cores; "
          f"the load client itself used {client_cpu:.1f} CPU s ({100 * client_cpu / (window + args.warmup):.0f}% "
          "of one core)")
    served = max(1, len(stats.latencies))
    app_ms = 1000 * stats.cpu.get("app", 0.0) / served
    pg_ms = 1000 * stats.cpu.get("postgres", 0.0) / served
    print(f"CPU per request in the window: gunicorn workers {app_ms:.1f} ms, their PostgreSQL backends {pg_ms:.1f} ms "
          f"(so 2 cores serve at most ~{2000 / max(0.1, app_ms + pg_ms):.0f} requests/s, whatever else runs)")
    emit([
        Row("b4_rate", "B4 HTTP completions/s (gunicorn -w 2, PostgreSQL)", f"{rate:.0f}", f">= {TARGET_RATE:.0f}",
            rate >= TARGET_RATE),
        Row("b4_p95", "B4 HTTP p95 latency, all requests (ms)", f"{p95:.0f}", f"<= {TARGET_P95_MS:.0f}",
            p95 <= TARGET_P95_MS),
        Row("b4_5xx", "B4 HTTP 5xx responses (whole run)", f"{errors_5xx}", "0", errors_5xx == 0),
        Row("b4_other", "B4 HTTP other failures (4xx, connection)", f"{other + sum(stats.failures.values())}", "-",
            None),
        Row("b4_cpu", "B4 CPU per request: app + PostgreSQL (ms)", f"{app_ms:.1f} + {pg_ms:.1f}", "-", None),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
