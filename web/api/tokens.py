from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest
from engine.services import policy, signin, users
from web.api import api
from web.api.helpers import json_body
from web.auth import current_actor, db, login_required


@api.get("/health")
def health() -> ResponseReturnValue:
    from sqlalchemy import text

    from engine.services import timers

    with db().engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    status = timers.status(db())
    alive = [w for w in status["workers"] if w["alive"]]
    # Due timers that nobody fired for a while mean no worker is running (or all are stuck): say so.
    stalled = status["stalled_timers"]
    return jsonify({"status": "stalled" if stalled else "ok", "database": "ok", "workers_alive": len(alive),
                    "due_timers": status["due_timers"], "stalled_timers": stalled,
                    "oldest_stalled_due_at": status["oldest_stalled_due_at"],
                    "undelivered_messages": status["undelivered_messages"], "dead_letters": status["dead_letters"],
                    "errored_instances": status["errored_instances"]})


@api.post("/tokens")
def create_token() -> ResponseReturnValue:
    body = json_body()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise BadRequest("username and password are required")
    actor = signin.authenticate(db(), username, password, request.remote_addr)
    issued = users.issue_token(db(), actor.username)
    return jsonify(issued), 201


@api.delete("/tokens/current")
@login_required
def revoke_current_token() -> ResponseReturnValue:
    """Revokes the bearer token this request carries (sign out of an integration)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise BadRequest("send the token to revoke as the bearer token")
    actor = current_actor()
    assert actor is not None
    users.revoke_tokens(db(), actor.username, token=header.removeprefix("Bearer ").strip())
    return "", 204


@api.post("/tokens/revoke")
@login_required
def revoke_user_tokens() -> ResponseReturnValue:
    """Revokes every token of a user: one's own, or anyone's for an administrator."""
    actor = current_actor()
    assert actor is not None
    username = json_body().get("username", actor.username)
    if not isinstance(username, str):
        raise BadRequest("username must be text", fields={"username": "must be text"})
    if username != actor.username:
        policy.require(actor, "administer")
    return jsonify({"revoked": users.revoke_tokens(db(), actor.username, username=username)})
