"""The audit trail for auditors: chain verification, export (CSV or a verifiable JSON Lines bundle), conformance."""

from __future__ import annotations

from datetime import datetime

from flask import Response, jsonify, request, stream_with_context
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest
from engine.services import audit_bundle, audit_views
from web.api import api
from web.api.helpers import act_required
from web.api.openapi import PATHS, _op
from web.auth import db

PATHS.update({
    "/audit/export": {"get": _op("The trail from..to (dates or ISO times) as format=jsonl (a bundle that "
                                 "`itsmflow audit verify-bundle` checks offline) or csv (auditor)", "audit",
                                 errors=(400, 401, 403))},
    "/audit/conformance": {"get": _op("Deviations of the trails from their diagrams (process, from, to; "
                                      "auditor, admin)", "audit", errors=(400, 401, 403))},
})


@api.get("/audit/verify")
@act_required("trail")
def verify() -> ResponseReturnValue:
    return jsonify(audit_views.verify(db()))


def _window() -> tuple[datetime | None, datetime | None]:
    start = audit_bundle.parse_when(request.args.get("from"), name="from")
    end = audit_bundle.parse_when(request.args.get("to"), end=True, name="to")
    if start and end and end <= start:
        raise BadRequest("to must be after from", fields={"to": "must be after from"})
    return start, end


@api.get("/audit/export")
@act_required("export_trail")
def export() -> ResponseReturnValue:
    start, end = _window()
    kind = request.args.get("format", "jsonl")
    if kind not in ("jsonl", "csv"):
        raise BadRequest("format must be csv or jsonl", fields={"format": "must be csv or jsonl"})
    name = f"audit-{start.date() if start else 'start'}-{end.date() if end else 'now'}.{kind}"

    mimetype = "text/csv" if kind == "csv" else "application/x-ndjson"
    return Response(stream_with_context(audit_views.export(db(), kind, start, end)), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@api.get("/audit/conformance")
@act_required("trail")
def conformance_report() -> ResponseReturnValue:
    start, end = _window()
    return jsonify(audit_views.conformance_report(db(), request.args.get("process") or None, start, end))
