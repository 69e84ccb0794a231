"""A decision table and its examples before deploy: check the examples, preview an evaluation."""

from __future__ import annotations

from flask import Response, jsonify

from engine.services import table_examples
from web.api import api
from web.api.helpers import json_body
from web.api.openapi import PATHS, _json, _op
from web.api.owner_helpers import actor
from web.auth import db, login_required

DMN_TEXT = {"type": "string", "description": "the edited table's DMN XML"}
PATHS.update({
    "/decisions/{key}/examples/check": {"post": _op(
        "Run example cases against an edited table without deploying: per case passed, matched rules, outputs "
        "and why it failed; and the table's columns", "decisions", 200,
        _json({"dmn": DMN_TEXT, "examples": {"type": "array", "items": {"type": "object"}}}, ["dmn"]),
        (400, 401, 403, 422))},
    "/decisions/{key}/versions/{version}/examples": {"get": _op(
        "The example cases a table version was deployed with (its .tests.json)", "decisions")},
    "/decisions/{key}/preview": {"post": _op(
        "Evaluate an edited table for the given inputs without deploying: matched rules, outputs, explanation "
        "(or the evaluation error)", "decisions", 200,
        _json({"dmn": DMN_TEXT, "inputs": {"type": "object"}}, ["dmn", "inputs"]), (400, 401, 403, 422))},
})


@api.post("/decisions/<key>/examples/check")
@login_required
def check_examples(key: str) -> Response:
    body = json_body()
    return jsonify(table_examples.check(actor(), key, body.get("dmn"), body.get("examples")))


@api.post("/decisions/<key>/preview")
@login_required
def preview_decision(key: str) -> Response:
    body = json_body()
    return jsonify(table_examples.preview(actor(), key, body.get("dmn"), body.get("inputs")))


@api.get("/decisions/<key>/versions/<int:version>/examples")
@login_required
def decision_examples(key: str, version: int) -> Response:
    return Response(table_examples.stored(db(), actor(), key, version), mimetype="application/json")
