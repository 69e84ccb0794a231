"""Form fields of a user task (camunda:formField) and the validation of submitted values against them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

FIELD_TYPES = ("string", "long", "boolean", "date", "datetime", "enum")
CONSTRAINTS = ("required", "readonly", "min", "max", "minlength", "maxlength", "after")


@dataclass
class FormField:
    id: str
    label: str
    type: str = "string"
    required: bool = False
    readonly: bool = False
    default: Any = None
    options: list[dict[str, str]] = field(default_factory=list)
    min: float | None = None
    max: float | None = None
    minlength: int | None = None
    maxlength: int | None = None
    secret: bool = False
    # What the diagram declared that could not be read (a `min` that is not a number): refused at deploy.
    unreadable: list[str] = field(default_factory=list)
    after: str | None = None  # cross-field check: a date on or after the named field's (this form or the record)

    def to_dict(self) -> dict[str, Any]:
        dct = asdict(self)
        if not dct["unreadable"]:
            del dct["unreadable"]  # deployed fields never have any: keep stored metadata and forms unchanged
        return dct

    @classmethod
    def from_dict(cls, dct: dict[str, Any]) -> FormField:
        return cls(**dct)


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def _coerce(fld: FormField, raw: Any) -> Any:
    """Returns the typed value or raises ValueError with a message for a person."""
    if fld.type == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
            return raw.strip().lower() in _TRUE
        raise ValueError("must be true or false")
    if fld.type == "long":
        if isinstance(raw, bool):
            raise ValueError("must be a whole number")
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, float) and raw.is_integer():
            value = int(raw)
        elif isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            value = int(raw.strip())
        else:
            raise ValueError("must be a whole number")
        if fld.min is not None and value < fld.min:
            raise ValueError(f"must be at least {fld.min:g}")
        if fld.max is not None and value > fld.max:
            raise ValueError(f"must be at most {fld.max:g}")
        return value
    if not isinstance(raw, str):
        raise ValueError("must be text")
    value_s = raw.strip()
    if fld.type == "date":
        try:
            return date.fromisoformat(value_s).isoformat()
        except ValueError:
            raise ValueError("must be a date like 2026-01-31") from None
    if fld.type == "datetime":
        return parse_instant(value_s).isoformat()
    if fld.type == "enum":
        allowed = [o["id"] for o in fld.options]
        if value_s not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value_s
    if fld.minlength is not None and len(value_s) < fld.minlength:
        raise ValueError(f"must be at least {fld.minlength} characters")
    if fld.maxlength is not None and len(value_s) > fld.maxlength:
        raise ValueError(f"must be at most {fld.maxlength} characters")
    return value_s


def parse_instant(text: str) -> datetime:
    """An instant from ISO 8601 text: with an offset or Z, or without one meaning UTC (what a browser's
    date-and-time control sends), or a bare date meaning its midnight UTC. Raises ValueError."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be a date and time like 2026-01-31T22:00 (UTC) or 2026-01-31T22:00+01:00") from None
    return (at.replace(tzinfo=UTC) if at.tzinfo is None else at).astimezone(UTC)


def _is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def validate_submission(
    fields: list[FormField], submitted: dict[str, Any], record: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Returns (typed values, errors by field id). Read-only and unknown keys are never stored; the callers
    (a start, a completion) refuse unknown ones by name.

    A field the submission leaves out keeps the record's earlier value (it is not in the values), unless it is
    required. A yes/no question left out is never silently answered: it keeps the record's earlier answer, takes
    the default the diagram declares, or is refused. Cross-field checks (`after`) compare with the submitted
    value of the other field, else the record's."""
    record = record or {}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for fld in fields:
        if fld.readonly:
            continue
        raw = submitted.get(fld.id)
        if _is_blank(raw) and fld.type != "boolean":
            if fld.required:
                errors[fld.id] = "is required"
            continue
        if raw is None and fld.type == "boolean":
            earlier = record.get(fld.id)  # None is no answer: a record may hold it from a message or a script
            if fld.required or (earlier is None and fld.default in (None, "")):
                errors[fld.id] = "is required: answer true or false"
                continue
            if earlier is not None:
                continue  # keeps the earlier answer
            raw = fld.default
        try:
            values[fld.id] = _coerce(fld, raw)
        except ValueError as exc:
            errors[fld.id] = str(exc)
    by_id = {f.id: f for f in fields}
    for fld in fields:
        if fld.after and fld.id in values and fld.id not in errors:
            other = values.get(fld.after, record.get(fld.after))
            if isinstance(other, str) and other and _before(str(values[fld.id]), other):
                label = by_id[fld.after].label if fld.after in by_id else fld.after
                errors[fld.id] = f"must be on or after {label} ({other})"
    return values, errors


def _before(value: str, other: str) -> bool:
    try:
        return parse_instant(value) < parse_instant(other)
    except ValueError:
        return False


def check_definition(fld: FormField) -> list[str]:
    """Problems with a field definition itself (deploy-time)."""
    problems = []
    if not fld.id or not fld.id.isidentifier():
        problems.append(f"form field id {fld.id!r} must be a plain identifier")
    if fld.type not in FIELD_TYPES:
        problems.append(f"form field {fld.id!r} has unsupported type {fld.type!r} (use {', '.join(FIELD_TYPES)})")
    problems.extend(f"form field {fld.id!r}: {reason}" for reason in fld.unreadable)
    if fld.min is not None and fld.max is not None and fld.min > fld.max:
        problems.append(f"form field {fld.id!r}: min {fld.min:g} is greater than max {fld.max:g}")
    if fld.minlength is not None and fld.maxlength is not None and fld.minlength > fld.maxlength:
        problems.append(f"form field {fld.id!r}: minlength {fld.minlength} is greater than maxlength {fld.maxlength}")
    if fld.type == "enum" and not fld.options:
        problems.append(f"enum form field {fld.id!r} has no values")
    if fld.after is not None and (fld.type not in ("date", "datetime") or not fld.after.isidentifier()):
        problems.append(f"form field {fld.id!r}: the after check needs a date or datetime field and another "
                        "field's id")
    if fld.default not in (None, "") and fld.type in FIELD_TYPES:
        try:
            _coerce(fld, fld.default)
        except ValueError as exc:
            problems.append(f"default of form field {fld.id!r} {exc}")
    return problems
