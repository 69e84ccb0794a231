"""Process owners: the catalogue of processes and tables, the bpmn-js modeller and dmn-js editor (both deploy
through the JSON API with the session's CSRF token), upload from a desktop modeller, and version diffs."""

from __future__ import annotations

import json

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.diagram.metadata import ROLES
from engine.errors import BadRequest, DeploymentRefused
from engine.services import deploy, drafts, modeller_settings, policy, proposals, table_examples, version_views
from engine.services.decisions import DmnFile
from engine.services.deploy import Bundle
from web.auth import db
from web.ui.common import arg_int, page, signed_in, ui


@ui.get("/processes")
@page("catalogue")
def processes() -> ResponseReturnValue:
    cat = version_views.catalogue(db(), signed_in())
    pending = proposals.list_proposals(db(), signed_in(), "pending")
    saved: dict[str, list[dict[str, object]]] = {}
    if policy.may(signed_in(), "deploy"):
        for d in drafts.list_drafts(db(), signed_in()):
            saved.setdefault(str(d["key"]), []).append(d)
    return render_template("processes.html", **cat, proposals=pending, drafts=saved)


@ui.get("/processes/<key>/diff")
@page("compare_versions")
def process_diff(key: str) -> ResponseReturnValue:
    versions, base, target, diff = version_views.process_diff(db(), signed_in(), key, arg_int("base"),
                                                              arg_int("target"))
    return render_template("diff.html", diff=diff, key=key, versions=versions, base=base, target=target)


@ui.get("/processes/<key>/modeller")
@page("deploy")
def modeller(key: str) -> ResponseReturnValue:
    versions, lanes = version_views.modeller_context(db(), key)
    latest = versions[-1]["version"]
    version = arg_int("version") or latest
    if version not in {v["version"] for v in versions}:
        raise BadRequest(f"process {key} has no version {version}")
    me = signed_in().username
    saved = drafts.list_drafts(db(), signed_in(), key)
    mine = next((d for d in saved if d["author"] == me), None)
    draft_id = arg_int("draft")
    if draft_id is not None and (mine is None or mine["id"] != draft_id):
        raise BadRequest(f"you have no draft {draft_id} of {key}")
    return render_template("modeller.html", key=key, version=version, latest=latest, versions=versions,
                           lanes=lanes, my_draft=mine, draft=mine if draft_id is not None else None,
                           others_drafts=[d for d in saved if d["author"] != me])


@ui.post("/processes/<key>/preview")
@page("deploy")
def preview_diff(key: str) -> ResponseReturnValue:
    """The edited diagram (multipart `bpmn`) against the latest deployed version: JSON plus its HTML."""
    upload = request.files.get("bpmn")
    if upload is None:
        raise BadRequest("send the edited diagram as the multipart field 'bpmn'")
    diff = version_views.draft_diff(db(), signed_in(), key, upload.read())
    return jsonify({**diff.to_dict(), "html": render_template("_diff_lists.html", diff=diff)})


def _bundle() -> Bundle:
    upload = request.files.get("bpmn")
    if upload is None or not upload.filename:
        raise BadRequest("choose a .bpmn file", fields={"bpmn": "choose a .bpmn file"})
    tests = {f.filename: f.read().decode("utf-8", "replace") for f in request.files.getlist("tests") if f.filename}
    dmn = []
    for f in request.files.getlist("dmn"):
        if f.filename:
            stem = f.filename.rsplit(".", 1)[0]
            dmn.append(DmnFile(f.filename, f.read(), tests.get(f"{stem}.tests.json")))
    lanes_text = request.form.get("lanes", "").strip()
    try:
        lanes = json.loads(lanes_text) if lanes_text else {}
    except ValueError:
        raise BadRequest("lanes must be a JSON object", fields={"lanes": "must be a JSON object"}) from None
    if not isinstance(lanes, dict):
        raise BadRequest("lanes must be a JSON object", fields={"lanes": "must be a JSON object"})
    comment = request.form.get("comment", "").strip()[:2000]
    return Bundle(upload.read(), upload.filename, dmn, {str(k): str(v) for k, v in lanes.items()}, "upload", comment,
                  default_role=request.form.get("default_role") or None)


@ui.route("/processes/upload", methods=["GET", "POST"])
@page("deploy")
def upload() -> ResponseReturnValue:
    problems: list[dict[str, object]] = []
    errors: dict[str, str] = {}
    message = None
    if request.method == "POST":
        try:
            result = deploy.deploy(db(), _bundle(), signed_in())
        except DeploymentRefused as exc:
            problems, message = exc.details.get("problems", []), exc.message
        except BadRequest as exc:
            errors, message = exc.details.get("fields", {}), exc.message
        else:
            if result.unchanged:
                flash(f"{result.key}: the file is the same as version {result.version}; nothing deployed.", "ok")
            else:
                flash(f"Deployed {result.key} version {result.version}.", "ok")
            for warning in result.warnings:
                line = f" (line {warning['line']})" if warning.get("line") else ""
                flash(f"Warning{line}: {warning['message']}", "warning")
            return redirect(url_for("ui.processes") + f"#process-{result.key}")
    status = 422 if (problems or errors) else 200
    return render_template("upload.html", problems=problems, errors=errors, message=message,
                           lanes=request.form.get("lanes", ""), comment=request.form.get("comment", ""),
                           roles=ROLES, default_role=request.form.get("default_role")
                           or modeller_settings.default_task_role() or ""), status


@ui.get("/decisions/<key>/editor")
@page("deploy")
def dmn_editor(key: str) -> ResponseReturnValue:
    versions = version_views.decision_versions(db(), key)
    latest = versions[-1]["version"]
    version = arg_int("version") or latest
    if version not in {v["version"] for v in versions}:
        raise BadRequest(f"decision {key} has no version {version}")
    return render_template("dmn.html", key=key, version=version, latest=latest, versions=versions)


@ui.get("/decisions/<key>/versions/<int:version>/tests.json")
@page("catalogue")
def decision_tests(key: str, version: int) -> ResponseReturnValue:
    return Response(table_examples.stored(db(), signed_in(), key, version), mimetype="application/json")
