"""Maturity from evidence in the API (JSON, or CSV with format=csv)."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest
from engine.services import dashboard, maturity
from web.api import api
from web.api.helpers import arg_date
from web.api.openapi import PATHS, _op
from web.api.owner_helpers import actor
from web.auth import db, login_required

PATHS.update({"/governance/maturity": {"get": _op(
    "Maturity level 1-5 of every deployed practice with the evidence of each level (from, to: dates, default the "
    "last 90 days; format=json|csv)", "governance", errors=(400, 401, 403))}})


@api.get("/governance/maturity")
@login_required
def maturity_levels() -> ResponseReturnValue:
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise BadRequest("format must be json or csv", fields={"format": "must be json or csv"})
    period = dashboard.Period.of(arg_date("from"), arg_date("to"), default_days=90)
    result = maturity.assessment(db(), actor(), period.start, period.end)
    if fmt == "csv":
        return Response(maturity.csv_text(result), mimetype="text/csv")
    return jsonify(result)
