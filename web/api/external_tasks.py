"""External tasks for workers (Camunda's external task pattern): fetch and lock by topic, complete, failure,
BPMN error; incidents and their retries for administrators."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from engine.services import external_tasks
from web.api import api
from web.api.helpers import json_body
from web.auth import current_actor, db, login_required


@api.post("/external-tasks/fetch-and-lock")
@login_required
def fetch_and_lock():  # type: ignore[no-untyped-def]
    body = json_body()
    topics = external_tasks.parse_topics(body.get("topics"))
    tasks = external_tasks.fetch_and_lock(db(), current_actor(), body.get("worker_id"),  # type: ignore[arg-type]
                                          topics, body.get("max_tasks", 10))
    return jsonify({"tasks": tasks})


@api.get("/external-tasks")
@login_required
def list_external_tasks():  # type: ignore[no-untyped-def]
    incidents = request.args.get("incidents", "") in ("1", "true")
    tasks = external_tasks.list_tasks(db(), current_actor(), request.args.get("topic") or None,  # type: ignore[arg-type]
                                      incidents)
    return jsonify({"tasks": tasks})


@api.post("/external-tasks/<task_id>/complete")
@login_required
def complete_external_task(task_id: str):  # type: ignore[no-untyped-def]
    body: dict[str, Any] = json_body()
    return jsonify(external_tasks.complete(db(), current_actor(), task_id, body.get("worker_id"),  # type: ignore[arg-type]
                                           body.get("variables")))


@api.post("/external-tasks/<task_id>/failure")
@login_required
def fail_external_task(task_id: str):  # type: ignore[no-untyped-def]
    return jsonify(external_tasks.failure(db(), current_actor(), task_id, json_body()))  # type: ignore[arg-type]


@api.post("/external-tasks/<task_id>/bpmn-error")
@login_required
def external_task_bpmn_error(task_id: str):  # type: ignore[no-untyped-def]
    return jsonify(external_tasks.bpmn_error(db(), current_actor(), task_id, json_body()))  # type: ignore[arg-type]


@api.post("/external-tasks/<task_id>/retries")
@login_required
def external_task_retries(task_id: str):  # type: ignore[no-untyped-def]
    body = json_body()
    return jsonify(external_tasks.set_retries(db(), current_actor(), task_id, body.get("retries")))  # type: ignore[arg-type]
