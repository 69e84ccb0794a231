"""The audit trail for auditors: chain verification, export (CSV or a verifiable JSON Lines bundle), conformance."""

from __future__ import annotations

from datetime import datetime

from flask import Response, jsonify, request, stream_with_context

from engine.db.database import unit_of_work
from engine.errors import BadRequest
from engine.services import audit, audit_bundle, conformance
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
def verify():  # type: ignore[no-untyped-def]
    with unit_of_work(db(), readonly=True) as uow:
        # The checkpoint file, when there is one, is shared with test runs and other databases: entries of
        # other chains are skipped here; `itsmflow audit verify --checkpoints FILE` checks it strictly.
        return jsonify(audit.verify(uow, audit.checkpoint_file(), strict=False).to_dict())


def _window() -> tuple[datetime | None, datetime | None]:
    start = audit_bundle.parse_when(request.args.get("from"), name="from")
    end = audit_bundle.parse_when(request.args.get("to"), end=True, name="to")
    if start and end and end <= start:
        raise BadRequest("to must be after from", fields={"to": "must be after from"})
    return start, end


@api.get("/audit/export")
@act_required("export_trail")
def export():  # type: ignore[no-untyped-def]
    start, end = _window()
    kind = request.args.get("format", "jsonl")
    if kind not in ("jsonl", "csv"):
        raise BadRequest("format must be csv or jsonl", fields={"format": "must be csv or jsonl"})
    name = f"audit-{start.date() if start else 'start'}-{end.date() if end else 'now'}.{kind}"

    def body():  # type: ignore[no-untyped-def]
        with unit_of_work(db(), readonly=True) as uow:
            if kind == "csv":
                yield from audit_bundle.export_csv(uow, start, end)
            else:
                for line in audit_bundle.export_lines(uow, start, end):
                    yield line + "\n"

    mimetype = "text/csv" if kind == "csv" else "application/x-ndjson"
    return Response(stream_with_context(body()), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@api.get("/audit/conformance")
@act_required("trail")
def conformance_report():  # type: ignore[no-untyped-def]
    start, end = _window()
    with unit_of_work(db(), readonly=True) as uow:
        found = conformance.report(uow, request.args.get("process") or None, start, end)
    return jsonify({"ok": not found, "deviations": [d.to_dict() for d in found],
                    "summary": conformance.summary(found)})
