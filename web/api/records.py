"""Instances: start, list, get, path, audit, cancel."""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest
from engine.services import record_views, starting
from web.api import api
from web.api.helpers import int_arg, json_body
from web.api.openapi import OBJ, PATHS, STR, _json, _op
from web.api.owner_helpers import actor
from web.auth import db, login_required

PATHS.update({"/instances/{id}/sla": {"get": _op(
    "The record's service-level clocks recomputed from its trail: state, elapsed business time, target, due, "
    "breach, and the segments and pauses they are computed from", "instances")}})


@api.post("/instances")
@login_required
def start_instance() -> ResponseReturnValue:
    body = json_body()
    process = body.get("process")
    if not isinstance(process, str):
        raise BadRequest("process is required", fields={"process": "is required"})
    return jsonify(record_views.started(db(), actor(), process, body.get("data") or {})), 201


@api.get("/instances")
@login_required
def list_instances() -> ResponseReturnValue:
    cursor = request.args.get("cursor")
    return jsonify(record_views.page(
        db(), actor(), request.args.get("process"), request.args.get("status"), request.args.get("q"),
        int_arg("limit", 50), int(cursor) if cursor and cursor.isdigit() else None))


@api.get("/instances/<ref>")
@login_required
def get_instance(ref: str) -> ResponseReturnValue:
    return jsonify(record_views.detail(db(), actor(), ref))


@api.get("/instances/<ref>/path")
@login_required
def instance_path(ref: str) -> ResponseReturnValue:
    return jsonify(record_views.path(db(), actor(), ref))


@api.get("/instances/<ref>/audit")
@login_required
def instance_audit(ref: str) -> ResponseReturnValue:
    return jsonify({"events": record_views.trail(db(), actor(), ref)})


@api.get("/instances/<ref>/sla")
@login_required
def instance_sla(ref: str) -> ResponseReturnValue:
    return jsonify(record_views.clocks(db(), actor(), ref))


@api.post("/instances/<ref>/cancel")
@login_required
def cancel_instance(ref: str) -> ResponseReturnValue:
    body = json_body()
    return jsonify(record_views.cancelled(db(), actor(), ref, str(body.get("reason") or "")))


@api.post("/instances/<ref>/retry")
@login_required
def retry_instance(ref: str) -> ResponseReturnValue:
    body = json_body()
    return jsonify(record_views.retried(db(), actor(), ref, str(body.get("reason") or "")))


PATHS.update({
    "/start-options": {"get": _op("The ways to raise a record the deployed processes declare (label, form fields, "
                                  "the process it starts), those the caller may start", "records")},
    "/records": {"post": _op("Raise a record through a start option: the option's form is validated and its "
                             "fixed values set; it goes through its front-door process when that is deployed",
                             "records", 201, _json({"option": STR, "data": OBJ}, ["option"]),
                             (400, 401, 403, 404, 422))},
})


@api.get("/start-options")
@login_required
def list_start_options() -> ResponseReturnValue:
    return jsonify({"options": record_views.start_options(db(), actor())})


@api.post("/records")
@login_required
def raise_record() -> ResponseReturnValue:
    body = json_body()
    ref, data = body.get("option"), body.get("data") or {}
    if not isinstance(ref, str) or not ref:
        raise BadRequest("option is required", fields={"option": "is required"})
    if not isinstance(data, dict):
        raise BadRequest("data must be an object", fields={"data": "must be an object"})
    started = starting.start(db(), actor(), ref, data)
    return jsonify({"business_key": started.business_key, "process": started.process, "version": started.version,
                    "next_task": started.next_task}), 201
