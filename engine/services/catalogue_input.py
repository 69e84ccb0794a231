"""Checking what people send to the catalogue: ids, names, texts, flags. Each checker adds a message per field
to `errors`, so one request reports every problem at once (a 422 with details.fields)."""

from __future__ import annotations

import re
from typing import Any

from engine.errors import ValidationFailed

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,59}$")


def slug(text: str) -> str:
    """'Donor CRM' -> 'donor-crm': the id a name suggests when none is given."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")


def refuse_unknown(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(k for k in body if k not in allowed)
    if unknown:
        raise ValidationFailed(f"unknown field(s): {', '.join(unknown)}",
                               fields={k: "is not a field of this object" for k in unknown})


def new_id(body: dict[str, Any], name: str | None, errors: dict[str, str]) -> str | None:
    raw = body.get("id")
    if raw in (None, "") and name:
        raw = slug(name)
    if not isinstance(raw, str) or not ID_PATTERN.match(raw):
        errors["id"] = "must be 1-60 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
        return None
    return raw


def text(body: dict[str, Any], key: str, errors: dict[str, str], *, required: bool = False,
         maxlength: int = 200) -> str | None:
    """The stripped text, '' when absent and optional, None when invalid."""
    raw = body.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            errors[key] = "is required"
            return None
        return ""
    if not isinstance(raw, str):
        errors[key] = "must be text"
        return None
    value = raw.strip()
    if len(value) > maxlength:
        errors[key] = f"must be at most {maxlength} characters"
        return None
    return value


def optional_ref(body: dict[str, Any], key: str, errors: dict[str, str]) -> str | None:
    """An optional id of another object: None (absent or blank) or the stripped text."""
    raw = body.get(key)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > 80:
        errors[key] = "must be an id"
        return None
    return raw.strip() or None


def flag(body: dict[str, Any], key: str, errors: dict[str, str], default: bool = False) -> bool:
    raw = body.get(key, default)
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        return raw.strip().lower() in ("true", "1", "yes", "on")
    errors[key] = "must be true or false"
    return default


def whole(body: dict[str, Any], key: str, errors: dict[str, str], low: int, high: int) -> int | None:
    raw = body.get(key)
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        errors[key] = f"must be a whole number from {low} to {high}"
        return None
    return raw


def raise_if(errors: dict[str, str], message: str = "some fields are not valid") -> None:
    if errors:
        raise ValidationFailed(message, fields=errors)
