"""Records: search by business key and text, and the record page (data, open tasks, the diagram with the path
taken, the timeline of its audit events)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from engine.db.database import unit_of_work
from engine.errors import BadRequest
from engine.services import instances, policy, problems, reports, sla
from web.auth import db
from web.ui import desk
from web.ui.common import arg_date, arg_int, page, signed_in, ui


@ui.get("/records")
@page()
def records():  # type: ignore[no-untyped-def]
    actor = signed_in()
    f = reports.InstanceFilter(
        q=request.args.get("q", ""), process=request.args.get("process", ""),
        status=request.args.get("status", ""), start=arg_date("from"), end=arg_date("to"),
        started_by=request.args.get("started_by", ""))
    with unit_of_work(db(), readonly=True) as uow:
        exact = reports.exact_key(uow, actor, f.q) if f.q and not arg_int("cursor") else None
        if exact:
            return redirect(url_for("ui.record", ref=exact))
        rows, next_cursor = reports.search_instances(uow, actor, f, 50, arg_int("cursor"))
        processes = reports.process_keys(uow)
    return render_template("records.html", rows=rows, f=f, next_cursor=next_cursor, statuses=reports.STATUSES,
                           processes=processes)


@ui.get("/records/<ref>")
@page()
def record(ref: str):  # type: ignore[no-untyped-def]
    actor = signed_in()
    with unit_of_work(db(), readonly=True) as uow:
        ctx = reports.record_page(uow, actor, ref)
        ctx.update(desk.record_extras(uow, actor, instances.find(uow, actor, ref), ctx["events"]))
        ctx["clocks"] = _clocks(sla.clocks_of(uow, actor, ref)["clocks"])
        ctx["may_problems"] = policy.may(actor, "problems")
        ctx["problems"] = problems.problems_of(uow, ctx["record"]["business_key"]) if ctx["may_problems"] else []
    return render_template("record.html", **ctx)


def _clocks(clocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The record's service-level clocks with their times as durations for the page."""
    return [{**c, "elapsed": timedelta(seconds=c["elapsed_seconds"]),
             "allowed": timedelta(seconds=c["target_seconds"]) if c["target_seconds"] else None} for c in clocks]


@ui.post("/records/<ref>/cancel")
@page("cancel")
def cancel_record(ref: str):  # type: ignore[no-untyped-def]
    try:
        inst = instances.cancel(db(), signed_in(), ref, request.form.get("reason", ""))
    except BadRequest as exc:
        flash(exc.message, "error")
        return redirect(url_for("ui.record", ref=ref))
    flash(f"{inst.business_key} cancelled.", "ok")
    return redirect(url_for("ui.record", ref=inst.business_key))
