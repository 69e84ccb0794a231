"""Forms generated from camunda:formField definitions (the task's own, or the start forms below), and what a
form post becomes: the raw strings go to the service, which validates and types them; on a 422 the very same
strings are rendered back, so nothing a person typed is lost."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from engine.diagram.forms import FormField, validate_submission

MULTILINE_IDS = {"description", "resolution", "closure_note", "root_cause", "backout_plan", "lessons_learned",
                 "plan", "baseline", "result", "notes", "justification", "workaround"}
NOT_DATA = {"csrf_token"}


def widget(field: dict[str, Any]) -> str:
    kind = field.get("type", "string")
    if field.get("readonly"):
        return "readonly"
    if kind == "enum":
        return "select"
    if kind == "boolean":
        return "yesno"
    if kind == "date":
        return "date"
    if kind == "long":
        return "number"
    if field["id"] in MULTILINE_IDS or (field.get("maxlength") or 0) > 300:
        return "textarea"
    return "text"


def shown(value: Any) -> str:
    """A value as the text a form control holds."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def initial_values(fields: list[dict[str, Any]], data: dict[str, Any]) -> dict[str, str]:
    """What a fresh form shows: the record's value for the field (as Camunda's generated forms do), else the
    field's default."""
    values = {}
    for f in fields:
        value = data.get(f["id"], f.get("default"))
        values[f["id"]] = shown(value)
    return values


def posted(form: MultiDict[str, str]) -> dict[str, str]:
    return {k: v for k, v in form.items() if k not in NOT_DATA}


def prepare(fields: list[dict[str, Any]], values: dict[str, str], errors: dict[str, str]) -> list[dict[str, Any]]:
    """Each field with its widget, the text to show and its error, ready for the template macro."""
    return [{**f, "widget": widget(f), "value": values.get(f["id"], ""), "error": errors.get(f["id"])}
            for f in fields]


def _field(id: str, label: str, type: str = "string", *, required: bool = False, default: Any = None,
           options: list[tuple[str, str]] | None = None, min: float | None = None, max: float | None = None,
           maxlength: int | None = None) -> FormField:
    return FormField(id=id, label=label, type=type, required=required, default=default,
                     options=[{"id": i, "name": n} for i, n in (options or [])], min=min, max=max,
                     maxlength=maxlength)


LEVELS = [("high", "High"), ("medium", "Medium"), ("low", "Low")]

START_FORMS: dict[str, dict[str, Any]] = {
    "incident": {
        "title": "Raise an incident",
        "intro": "Something is broken or degraded. The service desk records, prioritises and routes it.",
        "fixed": {"query_type": "incident"},
        "fields": [
            _field("summary", "Summary", required=True, maxlength=200),
            _field("service", "Service affected", required=True, maxlength=100),
            _field("description", "What happened", maxlength=4000),
            _field("impact", "Impact", "enum", required=True, default="medium", options=LEVELS),
            _field("urgency", "Urgency", "enum", required=True, default="medium", options=LEVELS),
        ],
    },
    "request": {
        "title": "Make a request",
        "intro": "Ask for access, something new, or information.",
        "fixed": {},
        "fields": [
            _field("summary", "Summary", required=True, maxlength=200),
            _field("service", "Service", required=True, maxlength=100),
            _field("query_type", "Kind of request", "enum", required=True, default="entitlement",
                   options=[("entitlement", "Access or entitlement"), ("information", "Information")]),
            _field("description", "Details", maxlength=4000),
            _field("impact", "Impact", "enum", required=True, default="low", options=LEVELS),
            _field("urgency", "Urgency", "enum", required=True, default="medium", options=LEVELS),
        ],
    },
    "change": {
        "title": "Request a change",
        "intro": "A request for change (RFC): it is classified, assessed and approved before it is scheduled.",
        "fixed": {},
        "fields": [
            _field("title", "Title", required=True, maxlength=200),
            _field("service", "Service", required=True, maxlength=100),
            _field("description", "What changes and why", required=True, maxlength=4000),
            _field("estimated_hours", "Estimated effort (hours)", "long", min=0, max=100000),
            _field("users_affected", "Users affected", "long", min=0),
            _field("critical_service", "Touches a critical service", "boolean"),
            _field("risk_likelihood", "Risk likelihood (1–5)", "long", min=1, max=5),
            _field("risk_impact", "Risk impact (1–5)", "long", min=1, max=5),
            _field("change_window_start", "Window starts", "date"),
            _field("change_window_end", "Window ends", "date"),
            _field("backout_plan", "Back-out plan", maxlength=4000),
        ],
    },
}


def start_fields(kind: str) -> list[dict[str, Any]]:
    return [f.to_dict() for f in START_FORMS[kind]["fields"]]


def validate_start(kind: str, raw: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed start data (with the kind's fixed values and who reports it) and errors by field."""
    spec = START_FORMS[kind]
    values, errors = validate_submission(spec["fields"], raw)
    return {**values, **spec["fixed"]}, errors
