"""B2 inbox on PostgreSQL: 100,000 open instances with 1 to 3 ready tasks each; the two inbox queries.

Run from the repo root: ``.venv/bin/python bench/b2_inbox.py [--instances 100000] [--queries 100]``.
Needs PostgreSQL (ITSMFLOW_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test); works in a fresh
schema that it drops afterwards.

Seeding: the response process is deployed through the service (a real process_version row), then bulk SQL
(INSERT ... SELECT generate_series) writes the instances (status waiting, realistic columns, a placeholder
state_json: the inbox never reads it), 1-3 human tasks each (about 200,000), their task_candidate rows (a
weighted mix of roles; 15% of tasks have two roles), 10% of tasks claimed by one of 500 users, 30% with a due date
(some overdue), 80% with a priority; then ANALYZE, the inbox tally folded as the worker does, VACUUM ANALYZE.

Measured, after a warm-up, one query at a time (no concurrency):
* service ``engine.services.tasks.list_tasks(uow, actor, "available")`` (first 50 available tasks for a role)
  and ``"mine"`` (the tasks claimed by a user), each including its unit of work (session, BEGIN, close);
* the same through ``GET /api/v1/tasks?scope=...`` with a bearer token (Flask test client: routing, token
  lookup, JSON of the 50 summaries; no network).
p50 and p95 over the runs. Then EXPLAIN (ANALYZE, BUFFERS) of each query as the service sends it.
Target: p95 <= 20 ms at the service.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from typing import Any

from common import OWNER, PROCESSES, Row, emit, percentile, pg_reachable, pg_schema
from sqlalchemy import event, text

from engine.db.database import Database, unit_of_work
from engine.services import deploy, inbox_tally, tasks, users
from engine.services.actors import Actor
from engine.services.bundles import folder_bundle

TARGET_P95_MS = 20.0
USERS = 500
# Weighted role mix of the tasks' first role (out of 100): the service desk and resolvers hold most work.
ROLE_MIX = ["service_desk"] * 35 + ["resolver"] * 30 + ["change_manager"] * 10 + ["cab"] * 8 + \
    ["implementer"] * 7 + ["release_manager"] * 4 + ["problem_team"] * 3 + ["requester"] * 3
ELEMENTS = [("record", "Record and classify", "Service desk"), ("restore", "Restore service", "Resolver"),
            ("approve", "Approve change", "Change manager"), ("implement", "Implement change", "Implementer"),
            ("confirm", "Confirm resolution", "Requester")]
ROLES_MEASURED = ("service_desk", "release_manager")


def seed(db: Database, n: int) -> dict[str, int]:
    """Bulk inserts; returns row counts."""
    bundle = folder_bundle(PROCESSES / "response")
    assert bundle is not None
    version_id = deploy.deploy(db, bundle, OWNER).id
    roles = "ARRAY[" + ",".join(f"'{r}'" for r in ROLE_MIX) + "]"
    el_ids = "ARRAY[" + ",".join(f"'{e[0]}'" for e in ELEMENTS) + "]"
    el_names = "ARRAY[" + ",".join(f"'{e[1]}'" for e in ELEMENTS) + "]"
    el_lanes = "ARRAY[" + ",".join(f"'{e[2]}'" for e in ELEMENTS) + "]"
    statements = [
        f"""INSERT INTO process_instance (id, process_key, process_version_id, version, business_key, status,
              state_json, data_json, revision, started_by, started_at)
            SELECT g, 'response', {version_id}, 1, 'INC-' || lpad(g::text, 7, '0'), 'waiting',
              '{{"placeholder": true}}',
              json_build_object('summary', 'Seeded record ' || g, 'service', 'svc' || (g % 40),
                'impact', (ARRAY['high','medium','low'])[1 + g % 3], 'priority', 'P' || (1 + g % 4))::text,
              1, 'user' || (g % {USERS}), now() - (g % 129600) * interval '1 minute'
            FROM generate_series(1, {n}) g""",
        "SELECT setval(pg_get_serial_sequence('process_instance', 'id'), (SELECT max(id) FROM process_instance))",
        f"""INSERT INTO human_task (id, instance_id, process_key, process_version_id, business_key, element_id, name,
              lane, roles_json, assignee, approval, priority, created_at, due_at)
            SELECT gen_random_uuid()::text, p.id, p.process_key, p.process_version_id, p.business_key,
              ({el_ids})[1 + (p.id + k) % {len(ELEMENTS)}], ({el_names})[1 + (p.id + k) % {len(ELEMENTS)}],
              ({el_lanes})[1 + (p.id + k) % {len(ELEMENTS)}],
              CASE WHEN h % 100 < 15
                THEN json_build_array(({roles})[1 + h % 100], ({roles})[1 + (h / 100) % 100])::text
                ELSE json_build_array(({roles})[1 + h % 100])::text END,
              CASE WHEN (h / 7) % 10 = 0 THEN 'user' || (h % {USERS}) END,
              (p.id + k) % {len(ELEMENTS)} = 2,
              CASE WHEN (h / 3) % 5 <> 0 THEN 'P' || (1 + (h / 11) % 4) END,
              p.started_at + k * interval '1 minute',
              CASE WHEN (h / 13) % 10 < 3 THEN now() + ((h % 20000) - 4000) * interval '1 minute' END
            FROM process_instance p
            CROSS JOIN LATERAL generate_series(1, 1 + p.id % 3) k
            CROSS JOIN LATERAL (SELECT abs(hashint4(p.id * 7 + k)::bigint) AS h) x""",
        """INSERT INTO task_candidate (task_id, role, created_at)
            SELECT DISTINCT h.id, r.role, h.created_at
            FROM human_task h CROSS JOIN LATERAL json_array_elements_text(h.roles_json::json) AS r(role)""",
        "ANALYZE",
    ]
    with db.engine.begin() as conn:
        for sql in statements:
            conn.exec_driver_sql(sql.replace("%", "%%"))  # no parameters: a literal % for the driver
    with db.engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("process_instance", "human_task", "task_candidate")}


def timed(fn: Callable[[], Any], runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def captured_sql(db: Database, call: Callable[[], Any]) -> tuple[str, Any]:
    """The SELECT the service sends (statement and parameters), captured at the driver."""
    seen: list[tuple[str, Any]] = []

    def listener(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if "FROM human_task" in statement:
            seen.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return seen[-1]


def explain(db: Database, statement: str, params: Any) -> list[str]:
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).all()
    return [r[0] for r in rows]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=100, help="timed runs per query")
    ap.add_argument("--warmup", type=int, default=20)
    args = ap.parse_args(argv)
    print(__doc__.split("\n\n")[0])
    ok, why = pg_reachable()
    if not ok:
        print(f"B2 not run: PostgreSQL unreachable ({why})")
        emit([Row("b2_available_service_desk", "B2 inbox 'available' for service_desk: service p95 (ms)",
                  "not run: PostgreSQL unreachable", f"<= {TARGET_P95_MS:.0f}", None)])
        return 0

    from web import create_app
    from web.config import Settings

    rows: list[Row] = []
    with pg_schema() as (db, schema, url):
        started = time.perf_counter()
        counts = seed(db, args.instances)
        print(f"seeded schema {schema} in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        # GET /tasks sums its exact total from the inbox tally: fold the seeding's +1 trigger rows as the worker's
        # sweep does (unfolded, the total's GROUP BY read 180,000 of them: 90 ms per request), then VACUUM as
        # autovacuum would (see B7, which does the same).
        print(f"inbox tally folded to {inbox_tally.compact(db):,} rows (the worker does it every sweep)")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM FULL inbox_tally"))
            conn.execute(text("VACUUM ANALYZE human_task, task_candidate, process_instance, inbox_tally"))
        with db.engine.connect() as conn:
            per_role = dict(conn.execute(text(
                "SELECT c.role, count(*) FROM task_candidate c JOIN human_task h ON h.id = c.task_id "
                "WHERE h.assignee IS NULL GROUP BY c.role")).all())
            mine_user, mine_count = conn.execute(text(
                "SELECT assignee, count(*) FROM human_task WHERE assignee IS NOT NULL GROUP BY assignee "
                "ORDER BY count(*) DESC LIMIT 1")).one()
        print("unclaimed tasks per candidate role: " + ", ".join(f"{r} {n:,}" for r, n in sorted(per_role.items())))

        # Users and tokens for the HTTP side (the roles as the inbox sees them; scrypt makes this take a second).
        actors = {role: users.add_user(db, f"bench_{role}", "bench", [role]) for role in ROLES_MEASURED}
        actors["mine"] = users.add_user(db, mine_user, "bench", ["resolver"])
        tokens = {k: users.create_token(db, a.username) for k, a in actors.items()}
        mine_users = itertools.cycle([Actor(f"user{i}", frozenset({"resolver", "requester"})) for i in range(USERS)])

        app = create_app(Settings(url, "bench-secret"), db=db)
        client = app.test_client()

        def service(scope: str, actor: Actor | None = None) -> Callable[[], Any]:
            def call() -> Any:
                who = actor or next(mine_users)
                with unit_of_work(db) as uow:
                    return tasks.list_tasks(uow, who, scope)
            return call

        def http(scope: str, key: str) -> Callable[[], Any]:
            headers = {"Authorization": f"Bearer {tokens[key]}"}

            def call() -> Any:
                resp = client.get(f"/api/v1/tasks?scope={scope}", headers=headers)
                assert resp.status_code == 200, resp.status_code
                return resp
            return call

        cases = [(f"available_{role}", f"'available' for {role}", service("available", actors[role]),
                  http("available", role)) for role in ROLES_MEASURED]
        cases.append(("mine", "'mine' (claimed by a user)", service("mine"), http("mine", "mine")))
        print(f"\nmethod: {args.warmup} warm-up then {args.queries} timed runs per query, one at a time; ms")
        results = {}
        for key, name, svc, web in cases:
            s = timed(svc, args.queries, args.warmup)
            h = timed(web, args.queries, args.warmup)
            results[key] = (name, s, h)
            print(f"  {name:32} service p50 {percentile(s, 50):6.2f}  p95 {percentile(s, 95):6.2f}  "
                  f"max {max(s):6.2f} | HTTP p50 {percentile(h, 50):6.2f}  p95 {percentile(h, 95):6.2f}  "
                  f"max {max(h):6.2f}")
        n_avail = len(service("available", actors["service_desk"])())
        n_mine = len(service("mine", actors["mine"])())
        print(f"  (rows returned: available {n_avail}; mine for {mine_user}: {n_mine} of {mine_count})")

        print("\nquery plans (EXPLAIN ANALYZE of the SQL the service sends):")
        for label, call in [("'available' for service_desk", service("available", actors["service_desk"])),
                            ("'available' for release_manager", service("available", actors["release_manager"])),
                            ("'mine'", service("mine", actors["mine"]))]:
            statement, params = captured_sql(db, call)
            print(f"--- {label}\n{statement}\n{params}")
            for line in explain(db, statement, params):
                print("    " + line)

        for key, (name, s, h) in results.items():
            p95 = percentile(s, 95)
            rows.append(Row(f"b2_{key}", f"B2 inbox {name}: service p95 (ms)", f"{p95:.1f}",
                            f"<= {TARGET_P95_MS:.0f}", p95 <= TARGET_P95_MS))
            rows.append(Row(f"b2_{key}_http", f"B2 inbox {name}: HTTP p95 (ms)", f"{percentile(h, 95):.1f}", "-",
                            None))
    emit(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
