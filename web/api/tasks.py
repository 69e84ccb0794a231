from __future__ import annotations

from flask import Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from engine.errors import Conflict
from engine.services import assign, idempotency, task_views, tasks
from web.api import api
from web.api.helpers import int_arg, json_body
from web.api.inbox_args import filters_from
from web.api.owner_helpers import actor
from web.auth import current_actor, db, login_required


@api.get("/tasks")
@login_required
def list_tasks() -> ResponseReturnValue:
    """A page of the inbox: scope, filters, sort, limit, cursor; `total` counts every match exactly."""
    return jsonify(task_views.inbox_page(db(), actor(), request.args.get("scope", "available"),
                                         filters_from(request.args), request.args.get("sort"),
                                         int_arg("limit", 50, high=200), request.args.get("cursor") or None))


@api.get("/tasks/<task_id>")
@login_required
def get_task(task_id: str) -> ResponseReturnValue:
    return jsonify(task_views.detail(db(), actor(), task_id))


@api.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str) -> ResponseReturnValue:
    body = request.get_json(silent=True) if request.content_length else None
    reason = body.get("reason") if isinstance(body, dict) else None
    return jsonify(tasks.claim(db(), actor(), task_id, reason))


@api.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str) -> ResponseReturnValue:
    return jsonify(tasks.unclaim(db(), actor(), task_id))


@api.post("/tasks/<task_id>/complete")
@login_required
def complete(task_id: str) -> ResponseReturnValue:
    body = json_body()
    data = body.get("data", {})
    actor = current_actor()
    assert actor is not None
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return jsonify(tasks.complete(db(), actor, task_id, data))
    # A retry after a lost answer gets the first answer (not "someone else did it"); see docs/api.md.
    key = idempotency.check_key(key)
    print_ = idempotency.fingerprint(request.method, request.path, request.get_data())
    stored = idempotency.recall(db(), actor.username, key, print_)
    if stored is None:
        try:
            result = tasks.complete(db(), actor, task_id, data)
        except Conflict:
            stored = idempotency.recall(db(), actor.username, key, print_)  # a twin request finished first
            if stored is None:
                raise
        else:
            text = current_app.json.dumps(result)
            idempotency.remember(db(), actor.username, key, print_, 200, text)
            return Response(text, 200, mimetype="application/json")
    return Response(stored[1], stored[0], mimetype="application/json", headers={"Idempotent-Replayed": "true"})


@api.post("/tasks/claim")
@login_required
def claim_many() -> ResponseReturnValue:
    """Claim several tasks: {"ids": [...]}; each one's outcome, in order."""
    return jsonify({"results": assign.claim_many(db(), actor(), json_body().get("ids"))})


@api.post("/tasks/assign")
@login_required
def assign_many() -> ResponseReturnValue:
    """Assign several tasks to one person: {"ids": [...], "assignee": "bob"} (admins and the service desk)."""
    body = json_body()
    return jsonify({"results": assign.assign_many(db(), actor(), body.get("ids"),
                                                  body.get("assignee"))})


@api.post("/tasks/<task_id>/assign")
@login_required
def assign_one(task_id: str) -> ResponseReturnValue:
    """Assign or reassign a task to a named person: {"assignee": "bob"} (audited as task.assigned)."""
    return jsonify(assign.assign(db(), actor(), task_id, json_body().get("assignee")))


@api.get("/tasks/<task_id>/assignees")
@login_required
def assignees(task_id: str) -> ResponseReturnValue:
    """Who this task can be given to."""
    return jsonify({"assignees": assign.candidates(db(), actor(), task_id)})
