"""Request helpers of the process owners' endpoints (proposals, drafts, rollback, lint, migration, tables)."""

from __future__ import annotations

from typing import Any

from flask import request

from engine.errors import BadRequest
from engine.services.actors import Actor
from web.auth import current_actor


def actor() -> Actor:
    found = current_actor()
    if found is None:  # current_actor() raises Unauthenticated instead; this keeps the type exact
        raise BadRequest("sign in or send a bearer token")
    return found


def optional_json() -> dict[str, Any]:
    """A JSON object body, or form fields, or nothing at all."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a JSON object")
        return body
    return dict(request.form)


def text_field(body: dict[str, Any], name: str, limit: int = 2000) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be text", fields={name: "must be text"})
    if len(value) > limit:
        raise BadRequest(f"{name} is longer than {limit} characters", fields={name: "too long"})
    return value.strip()
