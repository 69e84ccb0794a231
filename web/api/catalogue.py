"""The service catalogue over the API: services and working-time calendars."""

from __future__ import annotations

from datetime import datetime

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from engine import clock
from engine.errors import BadRequest
from engine.services import calendars, catalogue, catalogue_views
from web.api import api
from web.api.helpers import json_body
from web.api.openapi import OBJ, PATHS, STR, _json, _op
from web.api.owner_helpers import actor
from web.auth import db, login_required

SERVICE_BODY = _json({"id": STR, "name": STR, "description": STR, "owner_user": STR, "owner_role": STR,
                      "tier": {"type": "integer", "minimum": 1, "maximum": 4}, "donor_facing": {"type": "boolean"},
                      "support_calendar": STR, "maintenance_calendar": STR, "active": {"type": "boolean"}})
CALENDAR_BODY = _json({"id": STR, "name": STR, "description": STR, "time_zone": STR,
                       "hours": {"type": "array", "items": OBJ}, "holidays": {"type": "array", "items": OBJ}})
PATHS.update({
    "/services": {
        "get": _op("Services of the catalogue (include_retired=1 for retired ones too)", "catalogue"),
        "post": _op("Add a service (process owners, admins)", "catalogue", 201, SERVICE_BODY,
                    (400, 401, 403, 409, 422)),
    },
    "/services/{id}": {
        "get": _op("One service, with the standard-change models that apply to it (their limits, the table "
                   "version in force, the start option that raises one)", "catalogue"),
        "patch": _op("Edit a service (its owner: not tier, donor-facing or ownership; process owners, admins: all)",
                     "catalogue", 200, SERVICE_BODY, (400, 401, 403, 404, 409, 422)),
    },
    "/calendars": {
        "get": _op("Working-time calendars (support hours, maintenance windows)", "catalogue"),
        "post": _op("Add a calendar (process owners, admins)", "catalogue", 201, CALENDAR_BODY,
                    (400, 401, 403, 409, 422)),
    },
    "/calendars/{id}": {
        "get": _op("One calendar", "catalogue"),
        "patch": _op("Edit a calendar; hours and holidays given replace the old ones", "catalogue", 200,
                     CALENDAR_BODY, (400, 401, 403, 404, 409, 422)),
        "delete": _op("Delete a calendar no service uses", "catalogue", 204, None, (401, 403, 404, 409)),
    },
    "/calendars/{id}/open": {"get": _op("Is the calendar open at an instant (at=ISO time, default now)?",
                                        "catalogue", 200, None, (400, 401, 404))},
})


@api.get("/services")
@login_required
def list_services() -> ResponseReturnValue:
    retired = request.args.get("include_retired", "") in ("1", "true", "yes")
    return jsonify({"services": catalogue_views.services(db(), include_retired=retired)})


@api.post("/services")
@login_required
def create_service() -> ResponseReturnValue:
    return jsonify(catalogue.create(db(), actor(), json_body())), 201


@api.get("/services/<ref>")
@login_required
def get_service(ref: str) -> ResponseReturnValue:
    return jsonify(catalogue_views.service(db(), actor(), ref))


@api.patch("/services/<ref>")
@login_required
def update_service(ref: str) -> ResponseReturnValue:
    return jsonify(catalogue.update(db(), actor(), ref, json_body()))


@api.get("/calendars")
@login_required
def list_calendars() -> ResponseReturnValue:
    return jsonify({"calendars": catalogue_views.calendar_list(db())})


@api.post("/calendars")
@login_required
def create_calendar() -> ResponseReturnValue:
    return jsonify(calendars.create(db(), actor(), json_body())), 201


@api.get("/calendars/<ref>")
@login_required
def get_calendar(ref: str) -> ResponseReturnValue:
    return jsonify(catalogue_views.calendar(db(), ref))


@api.patch("/calendars/<ref>")
@login_required
def update_calendar(ref: str) -> ResponseReturnValue:
    return jsonify(calendars.update(db(), actor(), ref, json_body()))


@api.delete("/calendars/<ref>")
@login_required
def delete_calendar(ref: str) -> ResponseReturnValue:
    calendars.delete_calendar(db(), actor(), ref)
    return "", 204


def instant_arg(name: str) -> datetime:
    """An aware instant from the query string (ISO 8601 with an offset or Z); now when absent."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return clock.now()
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 time like 2026-03-02T09:30:00Z",
                         fields={name: "must be an ISO 8601 time"}) from None
    if at.tzinfo is None:
        raise BadRequest(f"{name} needs a time zone offset or Z", fields={name: "needs a time zone offset or Z"})
    return at


@api.get("/calendars/<ref>/open")
@login_required
def calendar_open(ref: str) -> ResponseReturnValue:
    at = instant_arg("at")
    return jsonify(catalogue_views.calendar_open(db(), ref, at))
