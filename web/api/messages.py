from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from engine.services import dead_letters, messages
from web.api import api
from web.api.helpers import act_required, json_body
from web.api.openapi import PATHS, _json, _op
from web.api.owner_helpers import actor
from web.auth import db, login_required

REASON = _json({"reason": {"type": "string"}}, ["reason"])
PATHS.update({
    "/messages/dead-letters": {"get": _op(
        "Messages whose bounded retries ran out (admin)", "messages", errors=(401, 403))},
    "/messages/{message_id}/redeliver": {"post": _op(
        "Put a dead letter back to pending with its attempts reset and route it now (admin; a reason is required; "
        "audited as admin.message_redelivered)", "messages", 200, REASON, (400, 401, 403, 404, 409))},
    "/messages/{message_id}/discard": {"post": _op(
        "Give a dead letter up (admin; a reason is required; audited as admin.message_discarded)", "messages", 200,
        REASON, (400, 401, 403, 404, 409))},
})


@api.post("/messages")
@login_required
def post_message() -> ResponseReturnValue:
    body = json_body()
    result = messages.post(db(), actor(), body.get("name"), body.get("correlation"),
                           body.get("data"))
    return jsonify({"delivered_to": result.delivered_to, "started": result.started}), 202


@api.get("/messages/dead-letters")
@act_required("dead_letters")
def list_dead_letters() -> ResponseReturnValue:
    return jsonify({"dead_letters": dead_letters.listing(db(), actor())})


@api.post("/messages/<int:message_id>/redeliver")
@act_required("dead_letters")
def redeliver_message(message_id: int) -> ResponseReturnValue:
    return jsonify(dead_letters.redeliver(db(), actor(), message_id, json_body().get("reason")))


@api.post("/messages/<int:message_id>/discard")
@act_required("dead_letters")
def discard_message(message_id: int) -> ResponseReturnValue:
    return jsonify(dead_letters.discard(db(), actor(), message_id, json_body().get("reason")))
