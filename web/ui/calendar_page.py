"""The change calendar page: a week or a month of change windows, filterable by service and CI, with every
change that has a conflict marked and its conflicts listed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.services import calendar_views, feed_tokens
from web.auth import db
from web.ui.common import page, signed_in, ui

VIEWS = ("week", "month")


def _anchor() -> date:
    raw = request.args.get("date", "")
    try:
        return date.fromisoformat(raw) if raw else datetime.now(UTC).date()
    except ValueError:
        return datetime.now(UTC).date()


def _span(view: str, anchor: date) -> tuple[date, date, date, date]:
    """(first day shown, day after the last shown, previous anchor, next anchor)."""
    if view == "month":
        first = anchor.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
        grid_start = first - timedelta(days=first.weekday())
        grid_end = after + timedelta(days=(7 - after.weekday()) % 7)
        return grid_start, grid_end, (first - timedelta(days=1)).replace(day=1), after
    start = anchor - timedelta(days=anchor.weekday())
    return start, start + timedelta(days=7), start - timedelta(days=7), start + timedelta(days=7)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@ui.get("/changes/calendar")
@page("change_calendar")
def change_calendar_page() -> ResponseReturnValue:
    return _calendar(None)


@ui.post("/changes/calendar/feed-token")
@page("change_calendar")
def create_feed_token() -> ResponseReturnValue:
    made = feed_tokens.create(db(), signed_in())
    chosen: dict[str, Any] = {k: v for k in ("service", "ci") if (v := request.args.get(k))}
    # Shown in this response only (not flashed: the session cookie is signed, not secret).
    return _calendar(url_for("api.calendar_feed", token=made["token"], _external=True, **chosen))


@ui.post("/changes/calendar/feed-token/revoke")
@page("change_calendar")
def revoke_feed_token() -> ResponseReturnValue:
    done = feed_tokens.revoke(db(), signed_in())
    flash("Your feed link is revoked: calendar apps using it get nothing now." if done else
          "You had no feed link.", "ok")
    return redirect(url_for("ui.change_calendar_page") + "#feed-token")


def _calendar(new_feed_url: str | None) -> str:
    view = request.args.get("view", "week")
    view = view if view in VIEWS else "week"
    anchor = _anchor()
    first, after, prev_anchor, next_anchor = _span(view, anchor)
    chosen = {"service": request.args.get("service") or None, "ci": request.args.get("ci") or None}
    shown = calendar_views.calendar_page(db(), signed_in(), _at(first), _at(after), **chosen)
    items = shown["items"]
    days: list[dict[str, Any]] = []
    day = first
    while day < after:
        lo, hi = _at(day), _at(day + timedelta(days=1))
        days.append({"date": day, "in_month": view == "week" or day.month == anchor.month,
                     "changes": [i for i in items if datetime.fromisoformat(i["starts_at"]) < hi
                                 and datetime.fromisoformat(i["ends_at"]) > lo]})
        day += timedelta(days=1)
    weeks = [days[i:i + 7] for i in range(0, len(days), 7)]

    def link(**changes: Any) -> str:
        args = {"view": view, "date": anchor.isoformat(), **{k: v for k, v in chosen.items() if v}, **changes}
        given: dict[str, Any] = {k: v for k, v in args.items() if v}
        return url_for("ui.change_calendar_page", **given)

    feed_args: dict[str, Any] = {k: v for k, v in chosen.items() if v}
    feed = url_for("api.calendar_feed", **feed_args)
    return render_template("change_calendar.html", view=view, weeks=weeks, items=items, flagged=shown["flagged"],
                           services=shown["services"], cis=shown["cis"], chosen=chosen, anchor=anchor, first=first,
                           last=after - timedelta(days=1), link=link, prev_anchor=prev_anchor,
                           next_anchor=next_anchor, feed=feed, feed_args=feed_args, new_feed_url=new_feed_url,
                           feed_token=feed_tokens.status(db(), signed_in()))
