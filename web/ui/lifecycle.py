"""Process owners' lifecycle acts from the processes page: roll back to an earlier version (as a new version),
discard a draft. Each is a form post that comes back to the page with what happened."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from engine.errors import Conflict, DeploymentRefused, NotAllowed, NotFound
from engine.services import drafts, rollback
from web.auth import db
from web.ui.common import page, signed_in, ui


def _comment() -> str:
    return request.form.get("comment", "").strip()[:2000]


@ui.post("/processes/<key>/versions/<int:version>/rollback")
@page("deploy")
def rollback_process(key: str, version: int) -> Response:
    try:
        done = rollback.rollback_process(db(), signed_in(), key, version, _comment())
    except (Conflict, DeploymentRefused) as exc:
        flash(f"Not rolled back: {exc.message}", "error")
    else:
        flash(f"Rolled {key} back to v{version}: it is now v{done['version']}. Running records stay on theirs.",
              "ok")
    return redirect(url_for("ui.processes") + f"#process-{key}")


@ui.post("/decisions/<key>/versions/<int:version>/rollback")
@page("deploy")
def rollback_decision(key: str, version: int) -> Response:
    try:
        done = rollback.rollback_decision(db(), signed_in(), key, version, _comment())
    except (Conflict, DeploymentRefused) as exc:
        flash(f"Not rolled back: {exc.message}", "error")
    else:
        flash(f"Rolled table {key} back to v{version}: it is now v{done['version']}.", "ok")
    return redirect(url_for("ui.processes") + f"#decision-{key}")


@ui.post("/processes/<key>/drafts/<int:draft_id>/discard")
@page("deploy")
def discard_draft(key: str, draft_id: int) -> Response:
    try:
        drafts.discard(db(), signed_in(), key, draft_id)
    except (NotAllowed, NotFound) as exc:
        flash(f"Not discarded: {exc.message}", "error")
    else:
        flash(f"Discarded the draft of {key}.", "ok")
    return redirect(url_for("ui.processes") + f"#process-{key}")
