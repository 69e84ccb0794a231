"""The dashboard: the service-desk measures over a chosen period, with small server-drawn charts."""

from __future__ import annotations

from datetime import timedelta

from flask import render_template, request

from engine import clock
from engine.db.database import unit_of_work
from engine.services import dashboard as measures
from web.auth import db
from web.ui import charts
from web.ui.common import arg_date, page, signed_in, ui

QUICK = (7, 30, 90)


@ui.get("/dashboard")
@page("dashboard")
def dashboard():  # type: ignore[no-untyped-def]
    days = request.args.get("days", "")
    start, end = arg_date("from"), arg_date("to")
    if days.isdigit() and not (start or end):
        end = clock.now().date()
        start = end - timedelta(days=int(days) - 1)
    period = measures.Period.of(start, end)
    with unit_of_work(db(), readonly=True) as uow:
        board = measures.dashboard(uow, signed_in(), period)
    last_day = (period.end - timedelta(days=1)).date()
    charts_svg = {
        "priority": charts.bars(board.open_by_priority, "Open records by priority", empty="No open records"),
        "opened": charts.columns(board.opened_per_day, "Records opened per day"),
        "closed": charts.columns(board.closed_per_day, "Records closed per day"),
        "escalations": charts.bars(board.escalations_by_element, "SLA escalations by timer",
                                   empty="No escalations in this period"),
    }
    breakdowns = [(b, charts.bars(b.rows, f"{b.process_name} by {b.field}",
                                  empty=f"No {b.process_name.lower()} records in this period"))
                  for b in board.breakdowns]
    return render_template("dashboard.html", board=board, charts=charts_svg, breakdowns=breakdowns,
                           start=period.start.date(),
                           end=last_day, quick=QUICK)
