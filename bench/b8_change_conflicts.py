"""B8 change conflicts on PostgreSQL: the conflict check of one change against 10,000 scheduled changes.

Run from the repo root: ``.venv/bin/python bench/b8_change_conflicts.py [--changes 10000] [--queries 200]``.
Needs PostgreSQL (ITSMFLOW_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test); works in a fresh
schema that it drops afterwards. Seeds the demo catalogue (6 services, 11 CIs, maintenance calendars) plus 50 more
CIs, then 10,000 open changes with windows of 1 to 4 hours spread over a year, each on a service and 1 to 3 CIs,
and a few blackouts.

Measured, after a warm-up, one at a time: ``engine.services.change_calendar.conflicts_for`` for a change picked at
random (its window and CIs read, overlapping open windows on its service or CIs, every touched service's
maintenance window, blackouts), and the same through ``GET /api/v1/changes/conflicts?ref=`` with a bearer token.
Target: service p95 <= 20 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

from b2_inbox import timed
from common import Row, emit, percentile, pg_reachable, pg_schema
from sqlalchemy import text

from engine.db.database import unit_of_work
from engine.services import change_calendar, demo_catalogue, deploy, users
from engine.services.actors import Actor
from engine.services.bundles import folder_bundle

TARGET_P95_MS = 20.0
OWNER = Actor("bench_owner", frozenset({"process_owner"}))


def seed(db, n: int) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    demo_catalogue.seed(db)
    bundle = folder_bundle(Path(__file__).resolve().parent.parent / "processes" / "change")
    assert bundle is not None
    version_id = deploy.deploy(db, bundle, OWNER).id
    services = [s["id"] for s in demo_catalogue.SERVICES]
    svc_array = "ARRAY[" + ",".join(f"'{s}'" for s in services) + "]"
    statements = [
        """INSERT INTO config_item (id, name, type, description, owner_role, active, created_at, updated_at)
           SELECT 'bench-ci-' || g, 'Bench CI ' || g, 'server', '', 'resolver', true, now(), now()
           FROM generate_series(1, 50) g""",
        f"""INSERT INTO ci_service (ci_id, service_id)
            SELECT 'bench-ci-' || g, ({svc_array})[1 + g % {len(services)}] FROM generate_series(1, 50) g""",
        f"""INSERT INTO process_instance (id, process_key, process_version_id, version, business_key, status,
              state_json, data_json, revision, started_by, started_at)
            SELECT g, 'change', {version_id}, 1, 'RFC-' || lpad(g::text, 7, '0'), 'waiting', '{{}}', '{{}}', 1,
              'bench', now() FROM generate_series(1, {n}) g""",
        "SELECT setval(pg_get_serial_sequence('process_instance', 'id'), (SELECT max(id) FROM process_instance))",
        f"""INSERT INTO record_window (instance_id, business_key, process_key, title, service_id, starts_at, ends_at,
              approved, status)
            SELECT g, 'RFC-' || lpad(g::text, 7, '0'), 'change', 'Seeded change ' || g,
              ({svc_array})[1 + g % {len(services)}],
              date_trunc('hour', now()) + (abs(hashint4(g)) % (365 * 24)) * interval '1 hour',
              date_trunc('hour', now()) + (abs(hashint4(g)) % (365 * 24) + 1 + g % 4) * interval '1 hour',
              g % 3 = 0, 'waiting'
            FROM generate_series(1, {n}) g""",
        f"""INSERT INTO record_ci (instance_id, ci_id)
            SELECT DISTINCT g, 'bench-ci-' || (1 + abs(hashint4(g * 31 + k)) % 50)
            FROM generate_series(1, {n}) g CROSS JOIN LATERAL generate_series(1, 1 + g % 3) k""",
        """INSERT INTO blackout (name, reason, service_id, starts_at, ends_at, created_by, created_at)
           SELECT 'Bench blackout ' || g, '', CASE WHEN g % 2 = 0 THEN 'donor-crm' END,
             now() + g * interval '30 days', now() + g * interval '30 days' + interval '2 days', 'bench', now()
           FROM generate_series(1, 10) g""",
        "ANALYZE",
    ]
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=200, help="timed runs")
    ap.add_argument("--warmup", type=int, default=20)
    args = ap.parse_args(argv)
    print(__doc__.split("\n\n")[0])
    ok, why = pg_reachable()
    if not ok:
        print(f"B8 not run: PostgreSQL unreachable ({why})")
        emit([Row("b8_conflicts", "B8 conflict check of one change vs 10,000: service p95 (ms)",
                  "not run: PostgreSQL unreachable", f"<= {TARGET_P95_MS:.0f}", None)])
        return 0

    from web import create_app
    from web.config import Settings

    with pg_schema() as (db, schema, url):
        users.seed_demo_users(db)
        started = time.perf_counter()
        seed(db, args.changes)
        print(f"seeded schema {schema} with {args.changes:,} scheduled changes in "
              f"{time.perf_counter() - started:.1f} s")
        rng = random.Random(8)
        keys = [f"RFC-{rng.randint(1, args.changes):07d}" for _ in range(args.queries + args.warmup)]
        picks = iter(keys * 3)
        found: list[int] = []

        def svc() -> None:
            with unit_of_work(db, readonly=True) as uow:
                found.append(len(change_calendar.conflicts_for(uow, next(picks))["conflicts"]))

        token = users.create_token(db, "carol")
        client = create_app(Settings(url, "bench-secret"), db=db).test_client()

        def web() -> None:
            resp = client.get(f"/api/v1/changes/conflicts?ref={next(picks)}",
                              headers={"Authorization": f"Bearer {token}"})
            assert resp.status_code == 200, (resp.status_code, resp.json)

        s = timed(svc, args.queries, args.warmup)
        w = timed(web, args.queries, args.warmup)
        print(f"\nmethod: {args.warmup} warm-up then {args.queries} timed runs, one at a time, a random change each; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"  service p50 {percentile(s, 50):6.2f}  p95 {percentile(s, 95):6.2f} ms | HTTP p95 "
              f"{percentile(w, 95):6.2f} ms | conflicts found per change: median "
              f"{sorted(found)[len(found) // 2]}, max {max(found)}")
    emit([Row("b8_conflicts", f"B8 conflict check of one change vs {args.changes:,}: service p95 (ms)",
              f"{percentile(s, 95):.1f}", f"<= {TARGET_P95_MS:.0f}", percentile(s, 95) <= TARGET_P95_MS),
          Row("b8_conflicts_http", f"B8 conflict check vs {args.changes:,}: HTTP p95 (ms)",
              f"{percentile(w, 95):.1f}", "-", None)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
