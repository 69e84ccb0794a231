"""The dashboard: the service-desk measures over a chosen period, with small server-drawn charts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine import clock
from engine.errors import BadRequest
from engine.services import dashboard as measures
from engine.services import page_views
from web.auth import db
from web.ui import charts
from web.ui.common import arg_date, page, signed_in, ui

QUICK = (7, 30, 90)


def _period() -> tuple[measures.Period, str | None]:
    """The chosen period, or (a bad one) the default with the reason, said beside the period's fields."""
    try:
        days = request.args.get("days", "")
        start, end = arg_date("from"), arg_date("to")
        if days.isdigit() and not (start or end):
            end = clock.now().date()
            start = end - timedelta(days=max(1, min(int(days), 366)) - 1)
        return measures.Period.of(start, end), None
    except BadRequest as exc:
        return measures.Period.of(None, None), exc.message


@ui.get("/dashboard")
@page("dashboard")
def dashboard() -> ResponseReturnValue:
    period, problem = _period()
    board = page_views.measures(db(), signed_in(), period)
    first, last_day = period.start.date(), (period.end - timedelta(days=1)).date()

    def drill(figure: str) -> str:
        window: dict[str, Any] = {"from": first.isoformat(), "to": last_day.isoformat()}
        return url_for("ui.dashboard_records", figure=figure, **window)

    def breakdown_link(b: Any) -> Callable[[str], str]:
        return lambda value: drill(f"breakdown:{b.process}:{b.field}:{value}")

    charts_svg = {
        "priority": charts.bars(board.open_by_priority, "Open records by priority", empty="No open records",
                                link=lambda p: drill(f"priority:{p}")),
        "opened": charts.columns(board.opened_per_day, "Records opened per day", link=lambda d: drill(f"opened:{d}")),
        "closed": charts.columns(board.closed_per_day, "Records closed per day", link=lambda d: drill(f"closed:{d}")),
        "escalations": charts.bars(board.escalations_by_element, "SLA escalations by timer",
                                   empty="No escalations in this period", link=lambda t: drill(f"escalation:{t}")),
    }
    breakdowns = [(b, charts.bars(b.rows, f"{b.process_name} by {b.field}",
                                  empty=f"No {b.process_name.lower()} records in this period",
                                  link=breakdown_link(b)))
                  for b in board.breakdowns]
    return render_template("dashboard.html", board=board, charts=charts_svg, breakdowns=breakdowns,
                           start=first, end=last_day, quick=QUICK, problem=problem, drill=drill), (
        400 if problem else 200)


@ui.get("/dashboard/records")
@page("dashboard")
def dashboard_records() -> ResponseReturnValue:
    """The records behind one figure of the dashboard."""
    period, problem = _period()
    if problem:
        raise BadRequest(problem)
    figure = request.args.get("figure", "")
    rows = page_views.records_behind(db(), signed_in(), period, figure)
    return render_template("dashboard_records.html", rows=rows, figure=figure, start=period.start.date(),
                           end=(period.end - timedelta(days=1)).date())
