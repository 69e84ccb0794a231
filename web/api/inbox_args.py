"""The inbox's query parameters, read the same way by the API (`GET /api/v1/tasks`) and the inbox page."""

from __future__ import annotations

from datetime import date

from werkzeug.datastructures import MultiDict

from engine.errors import BadRequest
from engine.services.inbox import Filters

FILTER_ARGS = ("process", "priority", "sla", "due_from", "due_to", "assignee", "role", "q")


def _date(args: MultiDict[str, str], name: str) -> date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a date like 2026-01-31", fields={name: "must be a date"}) from None


def filters_from(args: MultiDict[str, str]) -> Filters:
    text = {k: (args.get(k) or "").strip()[:200] for k in ("process", "priority", "sla", "assignee", "role", "q")}
    return Filters(process=text["process"], priority=text["priority"], sla=text["sla"],
                   due_from=_date(args, "due_from"), due_to=_date(args, "due_to"), assignee=text["assignee"],
                   role=text["role"], q=text["q"])
