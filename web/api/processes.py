from __future__ import annotations

import json

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest
from engine.services import bundle_deploy, callees, deploy, drafts, lint, policy, version_views
from engine.services.decisions import DmnFile
from engine.services.deploy import Bundle
from web.api import api
from web.api.owner_helpers import actor as signed_actor
from web.auth import db, login_required
from web.security_headers import raw_document


@api.get("/processes")
@login_required
def list_processes() -> ResponseReturnValue:
    return jsonify(version_views.processes(db()))


@api.get("/processes/<key>/versions")
@login_required
def process_versions(key: str) -> ResponseReturnValue:
    return jsonify(version_views.process_versions(db(), key))


@api.get("/processes/<key>/versions/<int:version>/bpmn")
@login_required
def process_bpmn(key: str, version: int) -> ResponseReturnValue:
    return raw_document(version_views.process_bpmn(db(), key, version), f"{key}-v{version}.bpmn")


def _dmn_files() -> list[DmnFile]:
    """The uploaded tables, each with its examples: a `tests` file named after the table (<stem>.tests.json),
    or, beside a single table, the one `tests` file or text field whatever its name."""
    tests = {f.filename: f.read().decode("utf-8", "replace") for f in request.files.getlist("tests")}
    if "tests" in request.form:
        tests["tests"] = request.form["tests"]
    uploads = request.files.getlist("dmn")
    files = []
    for f in uploads:
        name = f.filename or "decision.dmn"
        stem = name.rsplit(".", 1)[0]
        text = tests.get(f"{stem}.tests.json")
        if text is None and len(uploads) == 1 and len(tests) == 1:
            text = next(iter(tests.values()))
        files.append(DmnFile(name, f.read(), text))
    return files


@api.post("/processes/<key>/versions")
@login_required
def deploy_process(key: str) -> ResponseReturnValue:
    actor = signed_actor()
    upload = request.files.get("bpmn")
    if upload is None:
        raise BadRequest("send the diagram as the multipart field 'bpmn'")
    lanes = _lanes()
    bundle = Bundle(upload.read(), upload.filename or f"{key}.bpmn", _dmn_files(), lanes, *_origin_and_comment(),
                    default_role=request.form.get("default_role") or None)
    result = deploy.deploy(db(), bundle, actor, key=key)
    if request.form.get("from_draft"):
        drafts.deployed(db(), actor, result.key)
    defaulted = {w["element_id"] for w in result.warnings if w.get("kind") == "task_default_role"}
    defaulted |= {el for w in result.warnings for el in w.get("elements", [])}
    warnings = result.warnings + [  # the lint reads the diagram again: skip what the default role answered
        w for w in lint.lint_bpmn(db(), actor, result.key, bundle.bpmn, bundle.lanes or None)
        if not (w.get("kind") == "no_role" and w.get("element_id") in defaulted)]
    return jsonify({"key": result.key, "version": result.version, "decisions": result.decisions,
                    "unchanged": result.unchanged, "warnings": warnings}), 201


@api.post("/processes/bundle")
@login_required
def deploy_process_bundle() -> ResponseReturnValue:
    """Several .bpmn files (multipart `bpmn`, repeated) with their tables, deployed together in call order."""
    actor = signed_actor()
    uploads = [f for f in request.files.getlist("bpmn") if f.filename]
    if not uploads:
        raise BadRequest("send the diagrams as the multipart field 'bpmn' (one per file)")
    lanes = _lanes()
    origin, comment = _origin_and_comment()
    dmn = _dmn_files()
    files = [Bundle(f.read(), f.filename or "process.bpmn", dmn if n == 0 else [], lanes, origin, comment,
                    default_role=request.form.get("default_role") or None) for n, f in enumerate(uploads)]
    results = bundle_deploy.deploy_bundle(db(), files, actor)
    return jsonify({"deployed": [{"key": r.key, "version": r.version, "unchanged": r.unchanged,
                                  "decisions": r.decisions, "warnings": r.warnings} for r in results]}), 201


@api.get("/processes/<key>/calls")
@login_required
def process_calls(key: str) -> ResponseReturnValue:
    """The call hierarchy around a process: what its latest version calls, and who calls it."""
    return jsonify(callees.call_hierarchy(db(), key))


def _lanes() -> dict[str, str]:
    if not request.form.get("lanes"):
        return {}
    try:
        lanes = json.loads(request.form["lanes"])
    except ValueError:
        raise BadRequest("lanes must be a JSON object") from None
    if not isinstance(lanes, dict) or not all(isinstance(v, str) for v in lanes.values()):
        raise BadRequest("lanes must be a JSON object of lane name to role", fields={"lanes": "not an object"})
    return lanes


def _origin_and_comment() -> tuple[str, str]:
    """The deploy comment, and whether the browser's modeller sent it (recorded as the version's origin)."""
    comment = request.form.get("comment", "").strip()
    if len(comment) > 2000:
        raise BadRequest("the comment is longer than 2000 characters", fields={"comment": "too long"})
    origin = request.form.get("origin", "api")
    return (origin if origin in ("modeller", "api") else "api"), comment


@api.get("/decisions/<key>/versions")
@login_required
def decision_versions(key: str) -> ResponseReturnValue:
    return jsonify(version_views.decision_versions(db(), key))


@api.get("/decisions/<key>/versions/<int:version>/dmn")
@login_required
def decision_dmn(key: str, version: int) -> ResponseReturnValue:
    return raw_document(version_views.decision_dmn(db(), key, version), f"{key}-v{version}.dmn")


@api.post("/decisions/<key>/versions")
@login_required
def deploy_decision(key: str) -> ResponseReturnValue:
    actor = signed_actor()
    assert actor is not None
    policy.require(actor, "deploy")
    files = _dmn_files()
    if len(files) != 1:
        raise BadRequest("send one DMN file as the multipart field 'dmn'")
    origin, comment = _origin_and_comment()
    result = deploy.deploy_decisions(db(), files[0], actor, key, origin=origin, comment=comment)
    return jsonify(result), 201
