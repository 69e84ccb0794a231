"""B9 mixed load: people over HTTP and timers fired by workers, on one PostgreSQL.

Run from the repo root: ``.venv/bin/python bench/b9_timers.py [--clients 8] [--duration 60] [--warmup 5]``.
Needs PostgreSQL (ITSMFLOW_BENCH_POSTGRES_URL); works in a fresh schema dropped afterwards.

Set-up: as B4 (demo users, a token for alice), and a process whose start decides by its data: `timed` instances
wait on a timer (PT<delay>S, 2 s by default) and then end by themselves; the others wait for a service-desk task
with a required field. Servers: ``gunicorn -w 4`` (sync workers) and 2 ``itsmflow worker --interval 0.2``
processes, all on the same schema.

Load: 8 closed-loop clients; each repeats POST /api/v1/instances (30% with "timed": true), then completes the
task an untimed instance returns. Reported for the measured window: completions/s (by people), timers fired/s,
requests/s, latency p50/p95 of all requests, and the time to fire (how late each timer that fell due in the
window fired: fired-at minus due-at, from the audit trail; p50/p95/max), plus the CPU of the gunicorn workers,
the timer workers and their PostgreSQL backends per step. Every figure is from one run on one machine: the load
client shares its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from typing import Any

from b4_http import Stats, backends, children, cpu_busy, cpu_used, free_port, process_cpu, request, wait_ready
from common import OWNER, ROOT, Row, emit, percentile, pg_reachable, pg_schema

from engine.services import deploy, users
from engine.services.deploy import Bundle

sys.path.insert(0, str(ROOT))
from tests.bpmn_snippets import HEAD  # noqa: E402

PROCESS_KEY = "bench_timers"
TIMED_SHARE = 0.3


def mixed_process(delay: float) -> bytes:
    return (f'{HEAD}<bpmn:process id="{PROCESS_KEY}" isExecutable="true"><bpmn:startEvent id="start"/>'
            '<bpmn:exclusiveGateway id="which" default="f_person"/>'
            '<bpmn:userTask id="handle" name="Handle" camunda:candidateGroups="service_desk">'
            '<bpmn:extensionElements><camunda:formData><camunda:formField id="note" type="string">'
            '<camunda:validation><camunda:constraint name="required"/></camunda:validation></camunda:formField>'
            '</camunda:formData></bpmn:extensionElements></bpmn:userTask>'
            '<bpmn:intermediateCatchEvent id="wait" name="Wait"><bpmn:timerEventDefinition>'
            f'<bpmn:timeDuration>PT{delay:g}S</bpmn:timeDuration></bpmn:timerEventDefinition>'
            '</bpmn:intermediateCatchEvent><bpmn:endEvent id="end"/><bpmn:endEvent id="end2"/>'
            '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="which"/>'
            '<bpmn:sequenceFlow id="f_timed" sourceRef="which" targetRef="wait">'
            '<bpmn:conditionExpression>timed == True</bpmn:conditionExpression></bpmn:sequenceFlow>'
            '<bpmn:sequenceFlow id="f_person" sourceRef="which" targetRef="handle"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="handle" targetRef="end"/>'
            '<bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end2"/>'
            '</bpmn:process></bpmn:definitions>').encode()


async def client(port: int, token: str, stats: Stats, stop_at: float, rng: random.Random) -> None:
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
        data = {"timed": rng.random() < TIMED_SHARE}
        status, inst, _ = await timed("POST", "/api/v1/instances", {"process": PROCESS_KEY, "data": data})
        if status != 201:
            await asyncio.sleep(0.01)
            continue
        for task in inst.get("tasks", []):
            t0 = time.perf_counter()
            status, _, t1 = await timed("POST", f"/api/v1/tasks/{task['id']}/complete", {"data": {"note": "ok"}})
            if status == 200 and stats.inside(t1):
                stats.completions.append((t1 - t0) * 1000)


def snapshot(web: int, workers: list[int], url: str, schema: str) -> dict[str, dict[int, float]]:
    return {"web": {p: process_cpu(p) for p in children(web)},
            "workers": {p: process_cpu(p) for p in workers},
            "postgres": {p: process_cpu(p) for p in backends(url, schema)}}


async def load(port: int, token: str, clients: int, warmup: float, duration: float, snap: Any) -> Stats:
    start = time.perf_counter()
    stats = Stats(window=(start + warmup, start + warmup + duration))

    async def measure_cpu() -> None:
        await asyncio.sleep(warmup)
        before = await asyncio.to_thread(snap)
        await asyncio.sleep(duration)
        stats.cpu = cpu_used(before, await asyncio.to_thread(snap))

    rngs = [random.Random(n) for n in range(clients)]
    await asyncio.gather(measure_cpu(), *(client(port, token, stats, stats.window[1], rngs[n])
                                          for n in range(clients)))
    return stats


def firing_delays(db: Any, delay: float, window: tuple[datetime, datetime]) -> list[float]:
    """ms between each timer's due time (its instance's start + delay) and its firing, for timers due in the
    window (as the audit trail records both)."""
    sql = ("SELECT s.at, f.at FROM audit_event s JOIN audit_event f ON f.instance_id = s.instance_id "
           "AND f.type = 'timer.fired' WHERE s.type = 'instance.started'")
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(sql).all()
    due = timedelta(seconds=delay)
    return [((fired - (started + due)).total_seconds() * 1000) for started, fired in rows
            if window[0] <= started + due <= window[1]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--web", type=int, default=4, help="gunicorn workers")
    ap.add_argument("--timer-workers", type=int, default=2)
    ap.add_argument("--delay", type=float, default=2.0, help="seconds a timed instance waits")
    args = ap.parse_args(argv)
    print(__doc__.split("\n\n")[0])
    ok, why = pg_reachable()
    if not ok:
        print(f"B9 not run: PostgreSQL unreachable ({why})")
        emit([Row("b9_rate", "B9 mixed: completions/s (8 clients, 4 web, 2 timer workers)",
                  "not run: PostgreSQL unreachable", "-", None)])
        return 0
    with pg_schema() as (db, schema, url):
        users.seed_demo_users(db)
        deploy.deploy(db, Bundle(mixed_process(args.delay), "bench_timers.bpmn"), OWNER)
        token = users.create_token(db, "alice")
        port = free_port()
        env = {**os.environ, "ITSMFLOW_DATABASE_URL": url, "ITSMFLOW_SECRET_KEY": "bench-secret"}
        web = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", str(args.web), "-b",
                                f"127.0.0.1:{port}", "web.wsgi:app"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        workers = [subprocess.Popen([sys.executable, "-m", "web.cli", "worker", "--interval", "0.2"], cwd=ROOT,
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for _ in range(args.timer_workers)]
        print(f"servers: gunicorn -w {args.web}, {args.timer_workers} x itsmflow worker --interval 0.2 "
              f"(schema {schema})")
        try:
            wait_ready(port, web)
            print(f"method: {args.clients} closed-loop clients, {TIMED_SHARE:.0%} of instances timed "
                  f"(PT{args.delay:g}S), {args.warmup:.0f} s warm-up, {args.duration:.0f} s measured")
            busy0, total0 = cpu_busy()
            began = datetime.now().astimezone()
            stats = asyncio.run(load(port, token, args.clients, args.warmup, args.duration,
                                     lambda: snapshot(web.pid, [w.pid for w in workers], url, schema)))
            time.sleep(args.delay + 3)  # let the last timers of the window fire
            busy1, total1 = cpu_busy()
        finally:
            for proc in [web, *workers]:
                proc.terminate()
            for proc in [web, *workers]:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        window = (began + timedelta(seconds=args.warmup), began + timedelta(seconds=args.warmup + args.duration))
        delays = firing_delays(db, args.delay, window)
        with db.engine.connect() as conn:
            fired_in_window = conn.exec_driver_sql(
                "SELECT count(*) FROM audit_event WHERE type = 'timer.fired' AND at >= %(a)s AND at <= %(b)s",
                {"a": window[0], "b": window[1]}).scalar() or 0
            unfired = conn.exec_driver_sql("SELECT count(*) FROM process_instance WHERE status = 'waiting' "
                                           "AND next_wakeup_at < now() - interval '5 seconds'").scalar()

    seconds = args.duration
    rate = len(stats.completions) / seconds
    fired_rate = fired_in_window / seconds
    lat = stats.latencies or [0.0]
    p95 = percentile(lat, 95)
    late = delays or [0.0]
    steps = max(1, len(stats.latencies) + fired_in_window)
    web_ms = 1000 * stats.cpu.get("web", 0.0) / max(1, len(stats.latencies))
    worker_ms = 1000 * stats.cpu.get("workers", 0.0) / max(1, fired_in_window)
    pg_ms = 1000 * stats.cpu.get("postgres", 0.0) / steps
    busy = 100 * (busy1 - busy0) / max(1, total1 - total0)
    print(f"\nrequests in window: {len(stats.latencies):,} ({len(stats.latencies) / seconds:.1f}/s); status counts "
          f"{dict(sorted(stats.status.items()))}; 5xx (whole run) {stats.all_5xx}; failures {stats.failures or 0}")
    print(f"completions by people: {rate:.1f}/s; timers fired: {fired_rate:.1f}/s "
          f"({fired_in_window} in the window; overdue and still waiting at the end: {unfired})")
    print(f"latency, all requests: p50 {percentile(lat, 50):.1f} ms, p95 {p95:.1f} ms")
    print(f"time to fire (fired - due), {len(delays)} timers due in the window: p50 {percentile(late, 50):.0f} ms, "
          f"p95 {percentile(late, 95):.0f} ms, max {max(late):.0f} ms, mean {statistics.mean(late):.0f} ms")
    pg_text = f"{pg_ms:.1f} ms per step" if pg_ms else "not measured (no backend found by application_name)"
    print(f"CPU: gunicorn workers {web_ms:.1f} ms per request, timer workers {worker_ms:.1f} ms per timer fired "
          f"(polling included), PostgreSQL {pg_text}; machine busy {busy:.0f}% of {os.cpu_count()} cores")
    emit([
        Row("b9_rate", "B9 mixed: completions/s by people (8 clients, 4 web, 2 timer workers)", f"{rate:.0f}", "-",
            None),
        Row("b9_fired", "B9 mixed: timers fired/s", f"{fired_rate:.1f}", "-", None),
        Row("b9_p95", "B9 mixed: HTTP p95, all requests (ms)", f"{p95:.0f}", "-", None),
        Row("b9_fire", "B9 mixed: time to fire p50 / p95 (ms)",
            f"{percentile(late, 50):.0f} / {percentile(late, 95):.0f}", "-", None),
        Row("b9_5xx", "B9 mixed: 5xx responses (whole run)", f"{stats.all_5xx}", "0", stats.all_5xx == 0),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
