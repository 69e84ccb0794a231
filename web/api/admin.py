"""Administrative acts (admin role, a reason each): edit a record's data, reassign a task."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from engine.services import admin, record_views
from web.api import api
from web.api.helpers import act_required, json_body
from web.api.openapi import PATHS, _json, _op
from web.api.owner_helpers import actor
from web.auth import db

PATHS.update({
    "/instances/{id}/data": {"post": _op(
        "Edit a running record's data (admin; a reason is required; audited as admin.data_edited)", "admin", 200,
        _json({"data": {"type": "object"}, "reason": {"type": "string"}}, ["data", "reason"]), (400, 401, 403, 404))},
    "/tasks/{id}/reassign": {"post": _op(
        "Give an open task to another user (admin; a reason is required; audited as admin.task_reassigned)",
        "admin", 200, _json({"username": {"type": "string"}, "reason": {"type": "string"}}, ["username", "reason"]),
        (400, 401, 403, 404, 409))},
})


@api.post("/instances/<ref>/data")
@act_required("administer")
def edit_instance_data(ref: str) -> ResponseReturnValue:
    body = json_body()
    return jsonify(record_views.data_edited(db(), actor(), ref, body.get("data"), body.get("reason")))


@api.post("/tasks/<task_id>/reassign")
@act_required("administer")
def reassign_task(task_id: str) -> ResponseReturnValue:
    body = json_body()
    return jsonify(admin.reassign_task(db(), actor(), task_id, body.get("username") or "", body.get("reason") or ""))
