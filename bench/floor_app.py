"""The HTTP floor for B4 and B9: the same two requests served by a trivial Flask app, as a ratio's denominator.

``POST /api/v1/instances`` starts the benchmark's process with itsmflow's Runner in memory (the same parsed
diagram, sandbox and compaction), stores its state in one row and commits; ``POST /api/v1/tasks/<id>/complete``
reads that row FOR UPDATE, completes the task with the Runner, writes the state back and commits. One
transaction per request on the same PostgreSQL, through the same gunicorn settings and the engine's own pool
settings (engine.db.database.Database): what a persisted HTTP step cannot go below. No authentication, no task
rows, no audit trail, no policy: that is what the real requests add, and the ratio measures it.

Run by the benchmarks (``gunicorn --pythonpath bench floor_app:app``) with ITSMFLOW_DATABASE_URL, and
ITSMFLOW_BENCH_FLOOR_BPMN / ITSMFLOW_BENCH_FLOOR_KEY naming the diagram file and its process id. The table
``bench_floor`` is created by the benchmark in its own schema (floor_table below).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask import Flask, request  # noqa: E402
from lxml import etree  # noqa: E402

from engine.db.database import Database  # noqa: E402
from engine.spiff.parser import parse_specs  # noqa: E402
from engine.spiff.runtime import Runner, json_default  # noqa: E402

FLOOR_TABLE = "CREATE TABLE bench_floor (id BIGSERIAL PRIMARY KEY, state TEXT NOT NULL)"


def no_decisions(key: str, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    raise LookupError(f"the floor evaluates no decision tables ({key})")


def create_app() -> Flask:
    app = Flask(__name__)
    db = Database(os.environ["ITSMFLOW_DATABASE_URL"])
    key = os.environ["ITSMFLOW_BENCH_FLOOR_KEY"]
    xml = Path(os.environ["ITSMFLOW_BENCH_FLOOR_BPMN"]).read_bytes()
    spec, subprocess_specs = parse_specs(etree.fromstring(xml), "floor.bpmn", key)

    def answer(runner: Runner, row_id: int) -> dict[str, Any]:
        return {"id": row_id, "status": "completed" if runner.is_completed() else "waiting",
                "data": json.loads(json.dumps(runner.data(), default=json_default)),
                "tasks": [{"id": f"{row_id}.{t.task_id}", "name": t.name} for t in runner.ready_tasks()]}

    @app.post("/api/v1/instances")
    def start() -> tuple[dict[str, Any], int]:
        body = request.get_json(force=True)
        runner = Runner.start(spec, subprocess_specs, {**body.get("data", {}), "started_by": "alice"}, no_decisions)
        runner.run()
        with db.engine.begin() as conn:
            row_id = conn.exec_driver_sql("INSERT INTO bench_floor (state) VALUES (%s) RETURNING id",
                                          (json.dumps(runner.state()),)).scalar_one()
        return answer(runner, row_id), 201

    @app.post("/api/v1/tasks/<ref>/complete")
    def complete(ref: str) -> tuple[dict[str, Any], int]:
        row_id, task_id = ref.split(".", 1)
        body = request.get_json(force=True)
        with db.engine.begin() as conn:
            state = conn.exec_driver_sql("SELECT state FROM bench_floor WHERE id = %s FOR UPDATE",
                                         (int(row_id),)).scalar_one()
            runner = Runner.restore(json.loads(state), spec, subprocess_specs, no_decisions)
            runner.complete(task_id, body.get("data", {}))
            conn.exec_driver_sql("UPDATE bench_floor SET state = %s WHERE id = %s",
                                 (json.dumps(runner.state()), int(row_id)))
        return {"instance": answer(runner, int(row_id))}, 200

    return app


app = create_app() if "ITSMFLOW_BENCH_FLOOR_KEY" in os.environ else None
