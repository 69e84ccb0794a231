"""Proposals from the bundled processes: list, review (with the diffs), accept, dismiss."""

from __future__ import annotations

from flask import Response, jsonify, request

from engine.services import proposals
from web.api import api
from web.api.openapi import PATHS, _json, _op
from web.api.owner_helpers import actor, optional_json, text_field
from web.auth import db, login_required

STR = {"type": "string"}
PATHS.update({
    "/proposals": {"get": _op("Bundled files offered for review (status=pending|accepted|dismissed|superseded|all)",
                              "processes", errors=(400, 401, 403))},
    "/proposals/{proposal_id}": {"get": _op("A proposal with its diagram diff and rule-by-rule table diffs",
                                            "processes")},
    "/proposals/{proposal_id}/accept": {"post": _op(
        "Deploy the proposal's new diagram and tables as new versions", "processes", 200, _json({"comment": STR}),
        (400, 401, 403, 404, 409, 422))},
    "/proposals/{proposal_id}/dismiss": {"post": _op(
        "Keep the version in force; the same file is not offered again", "processes", 200,
        _json({"reason": STR}, ["reason"]), (400, 401, 403, 404, 409))},
})


@api.get("/proposals")
@login_required
def list_proposals() -> Response:
    return jsonify(proposals.list_proposals(db(), actor(), request.args.get("status", "pending")))


@api.get("/proposals/<int:proposal_id>")
@login_required
def get_proposal(proposal_id: int) -> Response:
    found = proposals.view(db(), actor(), proposal_id)
    diff = found["diff"]
    found["diff"] = diff.to_dict() if diff is not None else None
    for table in found["tables"]:
        table["diffs"] = [d.to_dict() for d in table["diffs"]]
    return jsonify(found)


@api.post("/proposals/<int:proposal_id>/accept")
@login_required
def accept_proposal(proposal_id: int) -> Response:
    comment = text_field(optional_json(), "comment")
    return jsonify(proposals.accept(db(), actor(), proposal_id, comment))


@api.post("/proposals/<int:proposal_id>/dismiss")
@login_required
def dismiss_proposal(proposal_id: int) -> Response:
    reason = text_field(optional_json(), "reason")
    return jsonify(proposals.dismiss(db(), actor(), proposal_id, reason))
