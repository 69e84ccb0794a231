"""Instance migration: dry run and apply, in bulk, for one process."""

from __future__ import annotations

from flask import Response, jsonify

from engine.services import migration
from web.api import api
from web.api.openapi import PATHS, _json, _op
from web.api.owner_helpers import actor, optional_json, text_field
from web.auth import db, login_required

BODY = {"from_version": {"type": "integer"}, "to_version": {"type": "integer"},
        "mapping": {"type": "object", "additionalProperties": {"type": "string"}},
        "instances": {"type": "array", "items": {"type": "integer"}}}
PATHS.update({
    "/processes/{key}/migrations/dry-run": {"post": _op(
        "Which running instances of from_version could move to to_version, per instance with the element mapping "
        "(by id, or the explicit mapping) and the reasons where not; changes nothing", "processes", 200,
        _json(BODY, ["from_version", "to_version"]), (400, 401, 403, 404))},
    "/processes/{key}/migrations": {
        "get": _op("The process's versions with their open instances (for choosing a migration)", "processes"),
        "post": _op("Move the movable instances in one audited act (a reason is required)", "processes", 200,
                    _json({**BODY, "reason": {"type": "string"}}, ["from_version", "to_version", "reason"]),
                    (400, 401, 403, 404, 409))},
})


@api.post("/processes/<key>/migrations/dry-run")
@login_required
def migration_dry_run(key: str) -> Response:
    req = migration.parse_request(key, optional_json())
    return jsonify(migration.dry_run(db(), actor(), req))


@api.get("/processes/<key>/migrations")
@login_required
def migration_choices(key: str) -> Response:
    return jsonify(migration.versions_with_open_instances(db(), actor(), key))


@api.post("/processes/<key>/migrations")
@login_required
def migration_apply(key: str) -> Response:
    body = optional_json()
    req = migration.parse_request(key, body)
    return jsonify(migration.apply(db(), actor(), req, text_field(body, "reason")))
