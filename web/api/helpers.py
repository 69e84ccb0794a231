"""Small request helpers shared by the API views."""

from __future__ import annotations

from typing import Any

from flask import request

from engine.errors import BadRequest


def json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("the request body must be a JSON object")
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
