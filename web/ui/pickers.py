"""Form fields shown as pickers: a field that names a catalogue object (the record's service) becomes a select
of the catalogue's entries. What is offered comes from the service layer; the server still checks the value."""

from __future__ import annotations

from typing import Any


def apply(fields: list[dict[str, Any]], choices: dict[str, list[dict[str, str]]],
          several: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """`several`: fields that take several of the options (a multiple select posting each chosen id)."""
    shown = []
    for f in fields:
        options = choices.get(f["id"])
        if options and f.get("widget") not in ("readonly", "yesno"):
            widget = "multiselect" if f["id"] in several else "select"
            f = {**f, "widget": widget, "options": options, "picker": True}
        shown.append(f)
    return shown
