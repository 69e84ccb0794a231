"""The change calendar over the API: windows by range, service and CI; conflicts; the iCalendar feed; a
record's impact view; blackout periods."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from engine import clock
from engine.errors import NotFound
from engine.services import blackouts, calendar_views, catalogue_views, change_ical, feed_tokens
from web.api import api
from web.api.catalogue import instant_arg
from web.api.helpers import act_required, json_body
from web.api.openapi import PATHS, STR, _json, _op
from web.api.owner_helpers import actor
from web.auth import db, login_required

BLACKOUT_BODY = _json({"name": STR, "reason": STR, "service": STR, "starts_at": STR, "ends_at": STR})
RANGE = "from, to: ISO 8601 instants (default: this week); service, ci: filters"
PATHS.update({
    "/changes/calendar": {"get": _op(f"Change windows overlapping a range ({RANGE})", "changes", 200, None,
                                     (400, 401, 403))},
    "/changes/calendar.ics": {"get": _op("The change calendar as an iCalendar feed (same filters; default: 30 "
                                         "days back to 180 ahead); token=<feed token> instead of a session or "
                                         "bearer token, for calendar clients", "changes", 200, None,
                                         (400, 401, 403))},
    "/changes/calendar/feed-token": {
        "get": _op("Whether the caller has a feed token, since when", "changes"),
        "post": _op("A new feed token for the caller (the old one stops working): {token, url}, shown once",
                    "changes", 201, None, (401, 403)),
        "delete": _op("Revoke the caller's feed token", "changes", 204, None, (401, 404)),
    },
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
def calendar_entries() -> ResponseReturnValue:
    start, end = range_args()
    items = calendar_views.entries(db(), actor(), start, end, **filters())
    return jsonify({"from": start.isoformat(), "to": end.isoformat(), **filters(), "changes": items})


@api.get("/changes/calendar.ics")
def calendar_feed() -> ResponseReturnValue:
    # A calendar client sends the feed token in the URL; people and scripts may use their session or API token.
    token = request.args.get("token")
    reader = feed_tokens.actor_for(db(), token) if token else actor()
    start, end = range_args(back=30, ahead=180)
    items = calendar_views.entries(db(), reader, start, end, **filters())
    body = change_ical.feed(items, clock.now(), request.host_url)
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": "inline; filename=changes.ics"})


def feed_url(token: str) -> str:
    return url_for("api.calendar_feed", token=token, _external=True)


@api.get("/changes/calendar/feed-token")
@login_required
def feed_token_status() -> ResponseReturnValue:
    return jsonify(feed_tokens.status(db(), actor()))


@api.post("/changes/calendar/feed-token")
@login_required
def create_feed_token() -> ResponseReturnValue:
    made = feed_tokens.create(db(), actor())
    return jsonify({**made, "url": feed_url(made["token"])}), 201


@api.delete("/changes/calendar/feed-token")
@login_required
def revoke_feed_token() -> ResponseReturnValue:
    if not feed_tokens.revoke(db(), actor()):
        raise NotFound("you have no feed token")
    return "", 204


@api.get("/changes/conflicts")
@act_required("change_calendar")
def conflicts() -> ResponseReturnValue:
    ref = (request.args.get("ref") or "").strip()
    if ref:
        return jsonify(calendar_views.conflicts_for(db(), ref))
    start, end = range_args()
    return jsonify({"from": start.isoformat(), "to": end.isoformat(), **filters(),
                    "changes": calendar_views.conflicts_in(db(), actor(), start, end, **filters())})


@api.get("/instances/<ref>/impact")
@login_required
def record_impact(ref: str) -> ResponseReturnValue:
    return jsonify(calendar_views.impact_for(db(), actor(), ref))


@api.get("/blackouts")
@login_required
def list_blackouts() -> ResponseReturnValue:
    return jsonify({"blackouts": catalogue_views.blackout_list(db())})


@api.post("/blackouts")
@login_required
def create_blackout() -> ResponseReturnValue:
    return jsonify(blackouts.create(db(), actor(), json_body())), 201


@api.patch("/blackouts/<int:blackout_id>")
@login_required
def update_blackout(blackout_id: int) -> ResponseReturnValue:
    return jsonify(blackouts.update(db(), actor(), blackout_id, json_body()))


@api.delete("/blackouts/<int:blackout_id>")
@login_required
def delete_blackout(blackout_id: int) -> ResponseReturnValue:
    blackouts.delete(db(), actor(), blackout_id)
    return "", 204

