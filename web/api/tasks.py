from __future__ import annotations

from flask import jsonify, request

from engine.db.database import unit_of_work
from engine.services import tasks
from web.api import api
from web.api.helpers import int_arg, json_body
from web.auth import current_actor, db, login_required


@api.get("/tasks")
@login_required
def list_tasks():  # type: ignore[no-untyped-def]
    with unit_of_work(db(), readonly=True) as uow:
        rows = tasks.list_tasks(uow, current_actor(), request.args.get("scope", "available"),  # type: ignore[arg-type]
                                request.args.get("process"), int_arg("limit", 50), request.args.get("q"))
        return jsonify({"tasks": [tasks.task_summary(t) for t in rows]})


@api.get("/tasks/<task_id>")
@login_required
def get_task(task_id: str):  # type: ignore[no-untyped-def]
    with unit_of_work(db(), readonly=True) as uow:
        return jsonify(tasks.get(uow, current_actor(), task_id))  # type: ignore[arg-type]


@api.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str):  # type: ignore[no-untyped-def]
    return jsonify(tasks.claim(db(), current_actor(), task_id))  # type: ignore[arg-type]


@api.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str):  # type: ignore[no-untyped-def]
    return jsonify(tasks.unclaim(db(), current_actor(), task_id))  # type: ignore[arg-type]


@api.post("/tasks/<task_id>/complete")
@login_required
def complete(task_id: str):  # type: ignore[no-untyped-def]
    body = json_body()
    data = body.get("data", {})
    return jsonify(tasks.complete(db(), current_actor(), task_id, data))  # type: ignore[arg-type]
