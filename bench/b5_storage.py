"""B5 storage: bytes per waiting and per completed instance of the reference process, on SQLite.

Run from the repo root: ``.venv/bin/python bench/b5_storage.py [--instances 200]``.

N instances of bench/reference.bpmn are run through the services on a fresh SQLite file and stopped at three
points: waiting at the first user task (just started), waiting at the second user task (after one human step),
and completed. For each instance the stored bytes of its rows are summed per table: process_instance,
human_task (+ task_candidate), audit_event, message_subscription. A row's bytes are the sum of its column values as
stored (text and blobs by their byte length, numbers by their decimal length, NULL as 0): the payload, without
SQLite's record headers, indexes and page slack. As a cross-check, the database file's growth per instance
(page_count x page_size, indexes and slack included) is printed too. The spec, BPMN and DMN are stored once per
deployed version and reported apart.

Target: a waiting instance's state (its process_instance row: lean state_json, data_json, columns) <= 4 KB.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from typing import Any

from b1_throughput import CLASSIFY, PROCESS_KEY, RESOLVE, deploy_reference
from common import ALICE, BOB, Row, emit, sqlite_database
from sqlalchemy import text

from engine.db.database import Database, unit_of_work
from engine.services import instances, tasks

TARGET_BYTES = 4096
TABLES = ("process_instance", "human_task", "task_candidate", "audit_event", "message_subscription")
WHERE = {
    "process_instance": "id = :i",
    "human_task": "instance_id = :i",
    "task_candidate": "task_id IN (SELECT id FROM human_task WHERE instance_id = :i)",
    "audit_event": "instance_id = :i",
    "message_subscription": "instance_id = :i",
}


def row_bytes_sql(db: Database, table: str) -> str:
    """SELECT the summed payload bytes of the rows of `table` that belong to instance :i."""
    with db.engine.connect() as conn:
        columns = [r[1] for r in conn.execute(text(f"PRAGMA table_info({table})"))]
    size = " + ".join(f'coalesce(length(CAST("{c}" AS BLOB)), 0)' for c in columns)
    return f"SELECT coalesce(sum({size}), 0), count(*) FROM {table} WHERE {WHERE[table]}"


def file_bytes(db: Database) -> int:
    with db.engine.connect() as conn:
        pages = conn.execute(text("PRAGMA page_count")).scalar_one()
        size = conn.execute(text("PRAGMA page_size")).scalar_one()
    return int(pages) * int(size)


def measure(db: Database, ids: list[int]) -> dict[str, Any]:
    queries = {t: text(row_bytes_sql(db, t)) for t in TABLES}
    per_table: dict[str, list[int]] = {t: [] for t in TABLES}
    rows: dict[str, list[int]] = {t: [] for t in TABLES}
    state: list[int] = []
    with db.engine.connect() as conn:
        for i in ids:
            for t, q in queries.items():
                b, n = conn.execute(q, {"i": i}).one()
                per_table[t].append(int(b))
                rows[t].append(int(n))
            state.append(conn.execute(text("SELECT length(state_json) FROM process_instance WHERE id = :i"),
                                      {"i": i}).scalar_one())
    med = {t: statistics.median(v) for t, v in per_table.items()}
    return {
        "tables": med, "rows": {t: statistics.median(v) for t, v in rows.items()},
        "state_json": statistics.median(state), "total": sum(med.values()),
        "max_instance_row": max(per_table["process_instance"]),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=200)
    args = ap.parse_args(argv)
    n = args.instances
    print(__doc__.split("\n\n")[0])
    print(f"method: {n} instances per stop point; median bytes per instance (payload of its rows).")

    with sqlite_database("b5") as db:
        deploy_reference(db)
        with db.engine.connect() as conn:
            spec = conn.execute(text("SELECT length(bpmn_xml), length(spec_json), length(meta_json) FROM "
                                     "process_version WHERE key = :k"), {"k": PROCESS_KEY}).one()
            dmn = conn.execute(text("SELECT coalesce(sum(length(dmn_xml)), 0) FROM decision_version")).scalar_one()
        points: dict[str, dict[str, Any]] = {}
        growth: dict[str, float] = {}

        before = file_bytes(db)
        started = [instances.start(db, ALICE, PROCESS_KEY, {}) for _ in range(3 * n)]
        growth["waiting at the first user task"] = (file_bytes(db) - before) / len(started)
        first, second, third = started[:n], started[n:2 * n], started[2 * n:]
        points["waiting at the first user task"] = measure(db, [i.id for i in first])

        def open_task(inst_id: int) -> str:
            with unit_of_work(db) as uow:
                inst = instances.find(uow, ALICE, inst_id)
                return instances.tasks_of(uow, inst)[0].id

        before = file_bytes(db)
        resolve_ids = {}
        for inst in second + third:
            result = tasks.complete(db, ALICE, open_task(inst.id), CLASSIFY)
            resolve_ids[inst.id] = result["next_tasks"][0]["id"]
        growth["waiting at the second user task"] = (file_bytes(db) - before) / len(resolve_ids)
        points["waiting at the second user task"] = measure(db, [i.id for i in second])

        before = file_bytes(db)
        for inst in third:
            result = tasks.complete(db, BOB, resolve_ids[inst.id], RESOLVE)
            assert result["instance"]["status"] == "completed"
        growth["completed"] = (file_bytes(db) - before) / len(third)
        points["completed"] = measure(db, [i.id for i in third])

    print(f"\nstored once per deployed version: BPMN {spec[0]:,} B, serialized spec {spec[1]:,} B, "
          f"element metadata {spec[2]:,} B; DMN tables {dmn:,} B")
    header = f"{'':34}" + "".join(f"{t:>22}" for t in TABLES) + f"{'total':>9}{'state_json':>12}"
    print(header)
    for name, p in points.items():
        cells = "".join(f"{p['tables'][t]:>14,.0f} B ({p['rows'][t]:>2.0f})" for t in TABLES)
        print(f"{name:34}{cells}{p['total']:>7,.0f} B{p['state_json']:>10,.0f} B")
    print("(rows per instance in brackets)")
    print("file growth per instance (indexes and page slack included, cumulative steps): "
          + "; ".join(f"{k} +{v:,.0f} B" for k, v in growth.items()))

    waiting = points["waiting at the second user task"]
    waiting_first = points["waiting at the first user task"]
    worst = max(waiting["tables"]["process_instance"], waiting_first["tables"]["process_instance"])
    emit([
        Row("b5_waiting_state", "B5 waiting instance state: process_instance row (bytes)", f"{worst:,.0f}",
            f"<= {TARGET_BYTES:,}", worst <= TARGET_BYTES),
        Row("b5_waiting_rows", "B5 waiting instance, all its rows (bytes)", f"{waiting['total']:,.0f}", "-", None),
        Row("b5_completed_rows", "B5 completed instance, all its rows (bytes)",
            f"{points['completed']['total']:,.0f}", "-", None),
        Row("b5_spec", "B5 spec stored once per version (bytes)", f"{spec[1]:,}", "-", None),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
