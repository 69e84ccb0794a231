"""Forms generated from camunda:formField definitions (a task's, or the start form a start option shows), and
what a form post becomes: the raw strings go to the service, which validates and types them; on a 422 the very same
strings are rendered back, so nothing a person typed is lost."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from engine.diagram.forms import parse_instant

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
    if kind == "datetime":
        return "datetime"
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


def initial_values(fields: list[dict[str, Any]], data: dict[str, Any],
                   not_from: frozenset[str] = frozenset()) -> dict[str, str]:
    """What a fresh form shows: the record's value for the field (as Camunda's generated forms do), else the
    field's default. A free-text field another step last wrote (`not_from`) starts empty: one role's note is
    never offered as another's."""
    values = {}
    for f in fields:
        free_text = f.get("type", "string") == "string" and not f.get("readonly")
        value = f.get("default") if free_text and f["id"] in not_from else data.get(f["id"], f.get("default"))
        values[f["id"]] = shown(value)
    return values


def written_elsewhere(events: list[dict[str, Any]], element_id: str) -> frozenset[str]:
    """Field ids whose latest value came from a form of another step (from the record's task.completed
    events)."""
    writer: dict[str, str | None] = {}
    for ev in events:
        if ev.get("type") == "task.completed":
            for key in (ev.get("data") or {}).get("form") or {}:
                writer[key] = ev.get("element_id")
    return frozenset(k for k, el in writer.items() if el != element_id)


def posted(form: MultiDict[str, str]) -> dict[str, str]:
    """A field posted several times (a multiple select, after its empty hidden twin) becomes the chosen values
    joined by ", "."""
    return {k: ", ".join(v for v in values if v) if len(values) > 1 else values[0]
            for k, values in form.lists() if k not in NOT_DATA}


def prepare(fields: list[dict[str, Any]], values: dict[str, str], errors: dict[str, str]) -> list[dict[str, Any]]:
    """Each field with its widget, the text to show and its error, ready for the template macro."""
    return [{**f, "widget": widget(f), "value": _control_text(f, values.get(f["id"], "")),
             "error": errors.get(f["id"])} for f in fields]


def _control_text(f: dict[str, Any], value: str) -> str:
    """A stored instant as a date-and-time control holds it (UTC, to the minute); anything else as it is."""
    if f.get("type") != "datetime" or not value or f.get("readonly"):
        return value
    try:
        return parse_instant(value).strftime("%Y-%m-%dT%H:%M")
    except ValueError:
        return value  # what a person typed, shown back beside its error
