from __future__ import annotations

from flask import jsonify

from engine.services import messages
from web.api import api
from web.api.helpers import json_body
from web.auth import current_actor, db, login_required


@api.post("/messages")
@login_required
def post_message():  # type: ignore[no-untyped-def]
    body = json_body()
    result = messages.post(db(), current_actor(), body.get("name"), body.get("correlation"),  # type: ignore[arg-type]
                           body.get("data"))
    return jsonify({"delivered_to": result.delivered_to, "started": result.started}), 202
