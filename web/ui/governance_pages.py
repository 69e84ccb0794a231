"""The governance page: each practice's maturity level with the evidence behind every level, and its export."""

from __future__ import annotations

import json

from flask import Response, render_template
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest
from engine.services import dashboard, maturity
from web.auth import db
from web.ui.common import arg_date, page, signed_in, ui


def _period() -> tuple[dashboard.Period, str | None]:
    try:
        return dashboard.Period.of(arg_date("from"), arg_date("to"), default_days=90), None
    except BadRequest as exc:
        return dashboard.Period.of(None, None, default_days=90), exc.message


@ui.get("/governance")
@page("governance")
def governance() -> ResponseReturnValue:
    period, problem = _period()
    result = maturity.assessment(db(), signed_in(), period.start, period.end)
    return render_template("governance.html", result=result, problem=problem, start=period.start.date(),
                           end=period.days[-1], cadences=result["cadences"])


@ui.get("/governance/maturity.<fmt>")
@page("governance")
def governance_export(fmt: str) -> ResponseReturnValue:
    if fmt not in ("csv", "json"):
        raise BadRequest("the export is maturity.csv or maturity.json", fields={"format": "csv or json"})
    period, problem = _period()
    if problem:
        raise BadRequest(problem, fields={"from": problem})
    result = maturity.assessment(db(), signed_in(), period.start, period.end)
    name = f"maturity-{period.start.date()}-{period.days[-1]}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "json":
        return Response(json.dumps(result, indent=2), mimetype="application/json", headers=headers)
    return Response(maturity.csv_text(result), mimetype="text/csv", headers=headers)
