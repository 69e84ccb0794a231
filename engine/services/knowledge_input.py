"""Checks the fields of knowledge requests: named 422s, never a 500, nothing stored on any error."""

from __future__ import annotations

from typing import Any

from engine.errors import BadRequest, ValidationFailed


def body(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    return data


def texts(data: dict[str, Any], spec: dict[str, tuple[bool, int]], partial: bool = False) -> dict[str, str]:
    """`spec` maps field -> (required, max length). Returns the given fields, stripped; raises naming each bad
    one. `partial`: only the fields present are checked (an edit)."""
    errors: dict[str, str] = {}
    out: dict[str, str] = {}
    for name, (required, longest) in spec.items():
        if name not in data or data[name] is None:
            if required and not partial:
                errors[name] = "is required"
            continue
        value = data[name]
        if not isinstance(value, str):
            errors[name] = "must be text"
            continue
        value = value.strip()
        if required and not value:
            errors[name] = "is required"
        elif len(value) > longest:
            errors[name] = f"must be at most {longest} characters"
        else:
            out[name] = value
    unknown = sorted(set(data) - set(spec))
    for name in unknown:
        errors[name] = "is not a field here"
    if errors:
        raise ValidationFailed("some fields are not valid", fields=errors)
    return out


def keys(value: Any, field: str) -> list[str]:
    """A list of business keys (strings)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v.strip()) <= 40 for v in value):
        raise ValidationFailed("some fields are not valid", fields={field: "must be a list of record keys"})
    return list(dict.fromkeys(v.strip() for v in value))
