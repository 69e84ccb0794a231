"""Small request helpers shared by the API views."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, request

from engine.errors import BadRequest
from engine.services import policy
from web.auth import current_actor

F = TypeVar("F", bound=Callable[..., Any])


def act_required(act: str) -> Callable[[F], F]:
    """An endpoint for those the policy lets do `act` (401 without credentials, 403 otherwise)."""

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            assert actor is not None
            policy.require(actor, act)
            return fn(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def json_body() -> dict[str, Any]:
    if not request.is_json:
        raise BadRequest("the request body must be a JSON object (Content-Type: application/json)")
    try:
        body = current_app.json.loads(request.get_data())  # the strict provider: web/json_input.py
    except ValueError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def int_arg(name: str, default: int, low: int = 1, high: int = 500) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number", fields={name: "must be a number"}) from None
    return max(low, min(high, value))


def arg_date(name: str) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a date like 2026-01-31", fields={name: "must be a date"}) from None
