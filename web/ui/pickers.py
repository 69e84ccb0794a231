"""Form fields shown as pickers: a field that names a catalogue object (the record's service) becomes a select
of the catalogue's entries. What is offered comes from the service layer; the server still checks the value."""

from __future__ import annotations

from typing import Any


def apply(fields: list[dict[str, Any]], choices: dict[str, list[dict[str, str]]]) -> list[dict[str, Any]]:
    shown = []
    for f in fields:
        options = choices.get(f["id"])
        if options and f.get("widget") not in ("readonly", "yesno"):
            f = {**f, "widget": "select", "options": options, "picker": True}
        shown.append(f)
    return shown
