"""External tasks for workers (Camunda's external task pattern): fetch and lock by topic, complete, failure,
BPMN error; incidents and their retries for administrators."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from engine.services import external_tasks
from web.api import api
from web.api.helpers import json_body
from web.api.owner_helpers import actor
from web.auth import db, login_required


@api.post("/external-tasks/fetch-and-lock")
@login_required
def fetch_and_lock() -> ResponseReturnValue:
    body = json_body()
    topics = external_tasks.parse_topics(body.get("topics"))
    tasks = external_tasks.fetch_and_lock(db(), actor(), body.get("worker_id"),
                                          topics, body.get("max_tasks", 10))
    return jsonify({"tasks": tasks})


@api.get("/external-tasks")
@login_required
def list_external_tasks() -> ResponseReturnValue:
    incidents = request.args.get("incidents", "") in ("1", "true")
    tasks = external_tasks.list_tasks(db(), actor(), request.args.get("topic") or None,
                                      incidents)
    return jsonify({"tasks": tasks})


@api.post("/external-tasks/<task_id>/complete")
@login_required
def complete_external_task(task_id: str) -> ResponseReturnValue:
    body: dict[str, Any] = json_body()
    return jsonify(external_tasks.complete(db(), actor(), task_id, body.get("worker_id"),
                                           body.get("variables")))


@api.post("/external-tasks/<task_id>/failure")
@login_required
def fail_external_task(task_id: str) -> ResponseReturnValue:
    return jsonify(external_tasks.failure(db(), actor(), task_id, json_body()))


@api.post("/external-tasks/<task_id>/bpmn-error")
@login_required
def external_task_bpmn_error(task_id: str) -> ResponseReturnValue:
    return jsonify(external_tasks.bpmn_error(db(), actor(), task_id, json_body()))


@api.post("/external-tasks/<task_id>/retries")
@login_required
def external_task_retries(task_id: str) -> ResponseReturnValue:
    body = json_body()
    return jsonify(external_tasks.set_retries(db(), actor(), task_id, body.get("retries")))
