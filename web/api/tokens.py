from __future__ import annotations

from flask import jsonify

from engine.errors import BadRequest
from engine.services import users
from web.api import api
from web.api.helpers import json_body
from web.auth import db


@api.get("/health")
def health():  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from engine.services import timers

    with db().engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    status = timers.status(db())
    alive = [w for w in status["workers"] if w["alive"]]  # type: ignore[union-attr]
    # Due timers that nobody fired for a while mean no worker is running (or all are stuck): say so.
    stalled = status["stalled_timers"]
    return jsonify({"status": "stalled" if stalled else "ok", "database": "ok", "workers_alive": len(alive),
                    "due_timers": status["due_timers"], "stalled_timers": stalled,
                    "oldest_stalled_due_at": status["oldest_stalled_due_at"],
                    "undelivered_messages": status["undelivered_messages"],
                    "errored_instances": status["errored_instances"]})


@api.post("/tokens")
def create_token():  # type: ignore[no-untyped-def]
    body = json_body()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise BadRequest("username and password are required")
    actor = users.authenticate(db(), username, password)
    return jsonify({"token": users.create_token(db(), actor.username)}), 201
