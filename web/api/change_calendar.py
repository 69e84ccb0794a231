"""The change calendar over the API: windows by range, service and CI; conflicts; the iCalendar feed; a
record's impact view; blackout periods."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response, jsonify, request

from engine import clock
from engine.services import blackouts, calendar_views, catalogue_views, change_ical
from web.api import api
from web.api.catalogue import instant_arg
from web.api.helpers import act_required, json_body
from web.api.openapi import PATHS, STR, _json, _op
from web.auth import current_actor, db, login_required

BLACKOUT_BODY = _json({"name": STR, "reason": STR, "service": STR, "starts_at": STR, "ends_at": STR})
RANGE = "from, to: ISO 8601 instants (default: this week); service, ci: filters"
PATHS.update({
    "/changes/calendar": {"get": _op(f"Change windows overlapping a range ({RANGE})", "changes", 200, None,
                                     (400, 401, 403))},
    "/changes/calendar.ics": {"get": _op("The change calendar as an iCalendar feed (same filters; default: 30 "
                                         "days back to 180 ahead)", "changes", 200, None, (400, 401, 403))},
    "/changes/conflicts": {"get": _op("Conflicts of one change (ref=RFC-...) or of every open change in a range "
                                      f"({RANGE})", "changes", 200, None, (400, 401, 403, 404))},
    "/instances/{id}/impact": {"get": _op("The services, CIs and open records a change touches, with its "
                                           "window's conflicts", "changes", 200, None, (401, 403, 404))},
    "/blackouts": {"get": _op("Declared blackout periods", "changes"),
                   "post": _op("Declare a blackout (process owners, admins)", "changes", 201, BLACKOUT_BODY,
                               (400, 401, 403, 422))},
    "/blackouts/{blackout_id}": {"patch": _op("Edit a blackout", "changes", 200, BLACKOUT_BODY,
                                              (400, 401, 403, 404, 422)),
                                 "delete": _op("Delete a blackout", "changes", 204, None, (401, 403, 404))},
})


def week_start(now: datetime) -> datetime:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def range_args(back: int | None = None, ahead: int | None = None) -> tuple[datetime, datetime]:
    now = clock.now()
    start = instant_arg("from") if request.args.get("from") else (
        now - timedelta(days=back) if back is not None else week_start(now))
    end = instant_arg("to") if request.args.get("to") else (
        now + timedelta(days=ahead) if ahead is not None else start + timedelta(days=7))
    return start, end


def filters() -> dict[str, str | None]:
    return {"service": request.args.get("service") or None, "ci": request.args.get("ci") or None}


@api.get("/changes/calendar")
@act_required("change_calendar")
def calendar_entries():  # type: ignore[no-untyped-def]
    start, end = range_args()
    items = calendar_views.entries(db(), start, end, **filters())
    return jsonify({"from": start.isoformat(), "to": end.isoformat(), **filters(), "changes": items})


@api.get("/changes/calendar.ics")
@act_required("change_calendar")
def calendar_feed():  # type: ignore[no-untyped-def]
    start, end = range_args(back=30, ahead=180)
    items = calendar_views.entries(db(), start, end, **filters())
    body = change_ical.feed(items, clock.now(), request.host_url)
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": "inline; filename=changes.ics"})


@api.get("/changes/conflicts")
@act_required("change_calendar")
def conflicts():  # type: ignore[no-untyped-def]
    ref = (request.args.get("ref") or "").strip()
    if ref:
        return jsonify(calendar_views.conflicts_for(db(), ref))
    start, end = range_args()
    return jsonify({"from": start.isoformat(), "to": end.isoformat(), **filters(),
                    "changes": calendar_views.conflicts_in(db(), start, end, **filters())})


@api.get("/instances/<ref>/impact")
@login_required
def record_impact(ref: str):  # type: ignore[no-untyped-def]
    return jsonify(calendar_views.impact_for(db(), current_actor(), ref))  # type: ignore[arg-type]


@api.get("/blackouts")
@login_required
def list_blackouts():  # type: ignore[no-untyped-def]
    return jsonify({"blackouts": catalogue_views.blackout_list(db())})


@api.post("/blackouts")
@login_required
def create_blackout():  # type: ignore[no-untyped-def]
    return jsonify(blackouts.create(db(), current_actor(), json_body())), 201  # type: ignore[arg-type]


@api.patch("/blackouts/<int:blackout_id>")
@login_required
def update_blackout(blackout_id: int):  # type: ignore[no-untyped-def]
    return jsonify(blackouts.update(db(), current_actor(), blackout_id, json_body()))  # type: ignore[arg-type]


@api.delete("/blackouts/<int:blackout_id>")
@login_required
def delete_blackout(blackout_id: int):  # type: ignore[no-untyped-def]
    blackouts.delete(db(), current_actor(), blackout_id)  # type: ignore[arg-type]
    return "", 204

