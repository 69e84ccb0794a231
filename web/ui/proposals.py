"""Process owners review what the bundled processes propose: the diffs against the version in force, then
accept (a new version) or dismiss (with a reason)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine.errors import BadRequest, Conflict, DeploymentRefused
from engine.services import proposals
from web.auth import db
from web.ui.common import page, signed_in, ui


@ui.get("/processes/proposals/<int:proposal_id>")
@page("compare_versions")
def proposal(proposal_id: int) -> str:
    found = proposals.view(db(), signed_in(), proposal_id)
    return render_template("proposal.html", p=found, diff=found["diff"])


@ui.post("/processes/proposals/<int:proposal_id>/accept")
@page("deploy")
def accept_proposal(proposal_id: int) -> Response:
    try:
        done = proposals.accept(db(), signed_in(), proposal_id, request.form.get("comment", ""))
    except (Conflict, DeploymentRefused) as exc:
        problems = "; ".join(p["message"] for p in exc.details.get("problems", []))
        flash(f"Not accepted: {exc.message}" + (f": {problems}" if problems else ""), "error")
        return redirect(url_for("ui.proposal", proposal_id=proposal_id))
    made = [f"{done['key']} v{done['result']['process_version']}"] if "process_version" in done["result"] else []
    made += [f"table {k} v{v}" for k, v in done["result"].get("decisions", {}).items()]
    flash(f"Accepted proposal #{proposal_id}: {', '.join(made) or 'nothing new'} now in force.", "ok")
    return redirect(url_for("ui.processes") + f"#process-{done['key']}")


@ui.post("/processes/proposals/<int:proposal_id>/dismiss")
@page("deploy")
def dismiss_proposal(proposal_id: int) -> Response:
    try:
        proposals.dismiss(db(), signed_in(), proposal_id, request.form.get("reason", ""))
    except (BadRequest, Conflict) as exc:
        flash(f"Not dismissed: {exc.message}", "error")
        return redirect(url_for("ui.proposal", proposal_id=proposal_id))
    flash(f"Dismissed proposal #{proposal_id}; the version in force stays, and the same file is not offered "
          "again.", "ok")
    return redirect(url_for("ui.processes"))
