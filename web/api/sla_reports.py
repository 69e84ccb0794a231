"""The SLA compliance report in the API: JSON, or CSV with format=csv."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest
from engine.services import sla_report
from web.api import api
from web.api.openapi import PATHS, _op
from web.api.owner_helpers import actor
from web.auth import db, login_required

PATHS.update({"/reports/sla": {"get": _op(
    "SLA compliance by month, service, priority and clock (from, to: months like 2026-03; service; priority; "
    "format=json|csv)", "reports", errors=(400, 401, 403))}})


@api.get("/reports/sla")
@login_required
def sla_compliance() -> ResponseReturnValue:
    args = {k: (request.args.get(k) or "").strip()[:100] or None for k in ("from", "to", "service", "priority")}
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise BadRequest("format must be json or csv", fields={"format": "must be json or csv"})
    report = sla_report.report(db(), actor(), args["from"], args["to"],
                               args["service"], args["priority"])
    if fmt == "csv":
        return Response(sla_report.to_csv(report), mimetype="text/csv")
    return jsonify(report)
