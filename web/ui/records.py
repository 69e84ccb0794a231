"""Records: search by business key and text, and the record page (data, open tasks, the diagram with the path
taken, the timeline of its audit events)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest
from engine.services import record_page, record_views, reports
from web.auth import db
from web.ui.common import arg_date, arg_int, page, signed_in, ui


@ui.get("/records")
@page()
def records() -> ResponseReturnValue:
    actor = signed_in()
    f = reports.InstanceFilter(
        q=request.args.get("q", ""), process=request.args.get("process", ""),
        status=request.args.get("status", ""), start=arg_date("from"), end=arg_date("to"),
        started_by=request.args.get("started_by", ""))
    found = record_page.search(db(), actor, f, arg_int("cursor"))
    if found.exact:
        return redirect(url_for("ui.record", ref=found.exact))
    return render_template("records.html", rows=found.rows, f=f, next_cursor=found.next_cursor,
                           statuses=reports.STATUSES, processes=found.processes)


@ui.get("/records/<ref>")
@page()
def record(ref: str) -> ResponseReturnValue:
    ctx = record_page.record(db(), signed_in(), ref)
    ctx["clocks"] = _clocks(ctx["clocks"])
    return render_template("record.html", **ctx)


def _clocks(clocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The record's service-level clocks with their times as durations for the page."""
    return [{**c, "elapsed": timedelta(seconds=c["elapsed_seconds"]),
             "allowed": timedelta(seconds=c["target_seconds"]) if c["target_seconds"] else None} for c in clocks]


@ui.post("/records/<ref>/cancel")
@page("cancel")
def cancel_record(ref: str) -> ResponseReturnValue:
    try:
        cancelled = record_views.cancelled(db(), signed_in(), ref, request.form.get("reason", ""))
    except BadRequest as exc:
        flash(exc.message, "error")
        return redirect(url_for("ui.record", ref=ref))
    flash(f"{cancelled['business_key']} cancelled.", "ok")
    return redirect(url_for("ui.record", ref=cancelled["business_key"]))
