"""The process lifecycle beyond deploying: lint warnings, drafts, rollback."""

from __future__ import annotations

import json

from flask import Response, jsonify, request

from engine.errors import BadRequest
from engine.services import drafts, lint, rollback
from web.api import api
from web.api.openapi import MULTIPART, PATHS, _json, _op
from web.api.owner_helpers import actor, optional_json, text_field
from web.auth import db, login_required
from web.security_headers import raw_document

STR = {"type": "string"}
PATHS.update({
    "/processes/{key}/lint": {"post": _op(
        "Lint warnings for an edited diagram (multipart bpmn): disconnected elements, tasks nobody can do, "
        "gateways without a default, timers without an escalation path", "processes", 200, MULTIPART,
        (400, 401, 403, 413))},
    "/processes/{key}/drafts": {
        "get": _op("The saved drafts of a process (owners)", "processes"),
        "post": _op("Save (or replace) your draft: multipart bpmn, optional lanes, base_version, note; answers "
                    "the draft and its lint warnings", "processes", 200, MULTIPART, (400, 401, 403, 413))},
    "/processes/{key}/drafts/{draft_id}/bpmn": {"get": _op("A draft's BPMN XML", "processes")},
    "/processes/{key}/drafts/{draft_id}": {"delete": _op("Discard a draft (its author, or admin)", "processes", 204)},
    "/processes/{key}/versions/{version}/rollback": {"post": _op(
        "Deploy an earlier version again as a new version", "processes", 201, _json({"comment": STR}),
        (400, 401, 403, 404, 409, 422))},
    "/decisions/{key}/versions/{version}/rollback": {"post": _op(
        "Deploy an earlier version of a table (with its examples) again as a new version", "decisions", 201,
        _json({"comment": STR}), (400, 401, 403, 404, 409, 422))},
})


def uploaded_bpmn() -> bytes:
    upload = request.files.get("bpmn")
    if upload is None:
        raise BadRequest("send the diagram as the multipart field 'bpmn'", fields={"bpmn": "required"})
    return upload.read()


def uploaded_lanes() -> dict[str, str] | None:
    text = request.form.get("lanes", "").strip()
    if not text:
        return None
    try:
        lanes = json.loads(text)
    except ValueError:
        raise BadRequest("lanes must be a JSON object", fields={"lanes": "must be a JSON object"}) from None
    if not isinstance(lanes, dict) or not all(isinstance(v, str) for v in lanes.values()):
        raise BadRequest("lanes must map lane names to roles", fields={"lanes": "must be a JSON object"})
    return {str(k): v for k, v in lanes.items()}


@api.post("/processes/<key>/lint")
@login_required
def lint_diagram(key: str) -> Response:
    return jsonify({"warnings": lint.lint_bpmn(db(), actor(), key, uploaded_bpmn(), uploaded_lanes())})


@api.get("/processes/<key>/drafts")
@login_required
def list_drafts(key: str) -> Response:
    return jsonify(drafts.list_drafts(db(), actor(), key))


@api.post("/processes/<key>/drafts")
@login_required
def save_draft(key: str) -> Response:
    base = request.form.get("base_version", "").strip()
    if base and not base.isdigit():
        raise BadRequest("base_version must be a version number", fields={"base_version": "must be a number"})
    note = text_field(dict(request.form), "note")
    saved = drafts.save(db(), actor(), key, uploaded_bpmn(), int(base) if base else None, uploaded_lanes(), note)
    return jsonify(saved)


@api.get("/processes/<key>/drafts/<int:draft_id>/bpmn")
@login_required
def draft_bpmn(key: str, draft_id: int) -> Response:
    return raw_document(drafts.get_xml(db(), actor(), key, draft_id), f"{key}-draft-{draft_id}.bpmn")


@api.delete("/processes/<key>/drafts/<int:draft_id>")
@login_required
def discard_draft(key: str, draft_id: int) -> tuple[str, int]:
    drafts.discard(db(), actor(), key, draft_id)
    return "", 204


@api.post("/processes/<key>/versions/<int:version>/rollback")
@login_required
def rollback_process(key: str, version: int) -> tuple[Response, int]:
    comment = text_field(optional_json(), "comment")
    return jsonify(rollback.rollback_process(db(), actor(), key, version, comment)), 201


@api.post("/decisions/<key>/versions/<int:version>/rollback")
@login_required
def rollback_decision(key: str, version: int) -> tuple[Response, int]:
    comment = text_field(optional_json(), "comment")
    return jsonify(rollback.rollback_decision(db(), actor(), key, version, comment)), 201
