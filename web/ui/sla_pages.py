"""The SLA compliance report: by month, service, priority and clock, with the records that breached."""

from __future__ import annotations

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest
from engine.services import sla_report as compliance
from web.auth import db
from web.ui.common import page, signed_in, ui


def _args() -> dict[str, str | None]:
    return {k: (request.args.get(k) or "").strip()[:100] or None for k in ("from", "to", "service", "priority")}


@ui.get("/reports/sla")
@page("dashboard")
def sla_report() -> ResponseReturnValue:
    args, problem = _args(), None
    try:
        report = compliance.report(db(), signed_in(), args["from"], args["to"], args["service"], args["priority"])
    except BadRequest as exc:  # a bad month: said beside the fields, the default months shown
        problem = exc.message
        report = compliance.report(db(), signed_in(), None, None, args["service"], args["priority"])
    return render_template("sla_report.html", report=report, args=args, problem=problem)


@ui.get("/reports/sla.csv")
@page("dashboard")
def sla_report_csv() -> ResponseReturnValue:
    args = _args()
    report = compliance.report(db(), signed_in(), args["from"], args["to"], args["service"], args["priority"])
    name = f"sla-compliance-{report['from']}-{report['to']}.csv"
    return Response(compliance.to_csv(report), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
