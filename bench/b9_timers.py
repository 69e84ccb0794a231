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

from b4_http import (
    Config,
    Phase,
    Stats,
    floor_env,
    free_port,
    gunicorn,
    make_floor_table,
    run_phase,
    stop,
    timed_request,
)
from common import OWNER, ROOT, Row, emit, percentile, pg_reachable, pg_schema
from cpu import Backends, CpuWindow, Usage, children, cpu_busy

from engine.services import deploy, users
from engine.services.deploy import Bundle

sys.path.insert(0, str(ROOT))
from tests.bpmn_snippets import HEAD

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
        return await timed_request(port, token, stats, method, path, body)

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


async def load(port: int, token: str, clients: int, warmup: float, duration: float, window: CpuWindow) -> Stats:
    start = time.perf_counter()
    stats = Stats(window=(start + warmup, start + warmup + duration))

    async def measure_cpu() -> None:
        await asyncio.sleep(warmup)
        await asyncio.to_thread(window.start)
        await asyncio.sleep(duration)
        stats.usage = await asyncio.to_thread(window.stop)

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
    ap.add_argument("--no-floor", action="store_true", help="skip the floor phase")
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
        make_floor_table(db)
        port = free_port()
        env = {**os.environ, "ITSMFLOW_DATABASE_URL": url, "ITSMFLOW_SECRET_KEY": "bench-secret"}
        config = Config("sync", args.web)
        workers = [subprocess.Popen([sys.executable, "-m", "web.cli", "worker", "--interval", "0.2"], cwd=ROOT,
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for _ in range(args.timer_workers)]
        backends = Backends(url, schema)
        web = None
        try:
            # A worker polls (one connection each) only once it has imported everything: 10 s and more on a
            # loaded machine. Timers due before then would fire late for reasons that are not the system's.
            deadline = time.monotonic() + 180
            while len(backends()) < args.timer_workers and time.monotonic() < deadline:
                time.sleep(0.2)
            web = gunicorn(config.args(), ["web.wsgi:app"], env, args.web, port)
            print(f"servers: gunicorn -w {args.web}, {args.timer_workers} x itsmflow worker --interval 0.2 "
                  f"(schema {schema})")
            print(f"method: {args.clients} closed-loop clients, {TIMED_SHARE:.0%} of instances timed "
                  f"(PT{args.delay:g}S), {args.warmup:.0f} s warm-up, {args.duration:.0f} s measured")
            busy0, total0 = cpu_busy()
            began = datetime.now().astimezone()
            server = web
            window_cpu = CpuWindow({"web": lambda: children(server.pid), "workers": lambda: [w.pid for w in workers],
                                    "postgres": backends})
            stats = asyncio.run(load(port, token, args.clients, args.warmup, args.duration, window_cpu))
            time.sleep(args.delay + 3)  # let the last timers of the window fire
            busy1, total1 = cpu_busy()
        finally:
            backends.close()
            if web is not None:
                stop(web)
            for proc in workers:
                proc.terminate()
            for proc in workers:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        floor: Phase | None = None
        if not args.no_floor:  # the people's requests alone, answered by the floor app (no timers fire there)
            floor = run_phase("floor", config, url, schema, token, args, floor_env(mixed_process(args.delay),
                                                                                   PROCESS_KEY),
                              lambda port, token, st, stop_at: client(port, token, st, stop_at, random.Random(0)))
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
    usage = stats.usage
    web_ms = usage.get("web", Usage()).per(len(stats.latencies))
    worker_ms = usage.get("workers", Usage()).per(fired_in_window)
    pg = usage.get("postgres", Usage())
    pg_ms = pg.per(steps)
    busy = 100 * (busy1 - busy0) / max(1, total1 - total0)
    print(f"\nrequests in window: {len(stats.latencies):,} ({len(stats.latencies) / seconds:.1f}/s); status counts "
          f"{dict(sorted(stats.status.items()))}; 5xx (whole run) {stats.all_5xx}; failures {stats.failures or 0}")
    print(f"completions by people: {rate:.1f}/s; timers fired: {fired_rate:.1f}/s "
          f"({fired_in_window} in the window; overdue and still waiting at the end: {unfired})")
    print(f"latency, all requests: p50 {percentile(lat, 50):.1f} ms, p95 {p95:.1f} ms")
    print(f"time to fire (fired - due), {len(delays)} timers due in the window: p50 {percentile(late, 50):.0f} ms, "
          f"p95 {percentile(late, 95):.0f} ms, max {max(late):.0f} ms, mean {statistics.mean(late):.0f} ms")
    print(f"CPU: gunicorn workers {web_ms:.1f} ms per request, timer workers {worker_ms:.1f} ms per timer fired "
          f"(polling included), PostgreSQL {pg_ms:.1f} ms per step ({pg.processes} backends seen, {pg.born} opened "
          f"in the window); machine busy {busy:.0f}% of {os.cpu_count()} cores")
    extra: list[Row] = []
    if floor is not None:
        floor.report()
        ratio = rate / max(0.01, floor.rate)
        cpu_ratio = floor.cpu("app") / max(0.01, web_ms)
        print(f"side by side, people's requests: itsmflow {rate:.1f} completions/s, {web_ms:.1f} ms app CPU a "
              f"request | floor {floor.rate:.1f} completions/s, {floor.cpu('app'):.1f} ms | ratio {ratio:.2f} "
              f"(rate), {cpu_ratio:.2f} (app CPU, floor / itsmflow)")
        extra = [Row("b9_floor", "B9 floor (people's requests, trivial Flask + Runner + 1 commit): completions/s",
                     f"{floor.rate:.0f}", "-", None),
                 Row("b9_ratio", "B9 ratio to the floor: completions/s, app CPU a request (floor / itsmflow)",
                     f"{ratio:.2f}, {cpu_ratio:.2f}", "-", None)]
    cpu_row = Row("b9_cpu", "B9 CPU: app per request + PostgreSQL per step (ms)", f"{web_ms:.1f} + {pg_ms:.1f}",
                  "-", None)
    emit([
        Row("b9_rate", "B9 mixed: completions/s by people (8 clients, 4 web, 2 timer workers)", f"{rate:.0f}", "-",
            None),
        Row("b9_fired", "B9 mixed: timers fired/s", f"{fired_rate:.1f}", "-", None),
        Row("b9_p95", "B9 mixed: HTTP p95, all requests (ms)", f"{p95:.0f}", "-", None),
        Row("b9_fire", "B9 mixed: time to fire p50 / p95 (ms)",
            f"{percentile(late, 50):.0f} / {percentile(late, 95):.0f}", "-", None),
        Row("b9_5xx", "B9 mixed: 5xx responses (whole run)", f"{stats.all_5xx}", "0", stats.all_5xx == 0),
        cpu_row, *extra,
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
