"""Auditors: the audit trail across records with filters, its integrity badge, and CSV / JSONL export of
exactly what the filter shows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from flask import Response, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue

from engine import clock
from engine.errors import BadRequest
from engine.services import audit_bundle, audit_views, reports
from engine.services.actors import Actor
from web.auth import db
from web.ui.common import arg_date, arg_int, page, signed_in, ui

FILTER_ARGS = ("process", "from", "to", "actor", "type", "status", "q")


def _filter() -> reports.TrailFilter:
    status = request.args.get("status", "")
    if status and status not in reports.STATUSES:
        raise BadRequest(f"status must be one of {', '.join(reports.STATUSES)}")
    return reports.TrailFilter(
        process=request.args.get("process", "").strip(), start=arg_date("from"), end=arg_date("to"),
        actor=request.args.get("actor", "").strip(), type=request.args.get("type", "").strip(), status=status,
        q=request.args.get("q", "").strip())


def _args() -> dict[str, str]:
    return {k: request.args[k] for k in FILTER_ARGS if request.args.get(k)}


@ui.get("/audit")
@page("trail")
def trail() -> ResponseReturnValue:
    f = _filter()
    actor = signed_in()
    ctx = audit_views.trail_page(db(), actor, f, arg_int("before"))
    bundle_args = {k: v for k, v in _args().items() if k in ("from", "to")}
    return render_template("trail.html", **ctx, f=f, args=_args(), bundle_args=bundle_args,
                           statuses=reports.STATUSES)


def _csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=reports.EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
        if buf.tell() > 64 * 1024:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _jsonl(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"


@ui.get("/audit/export")
@page("trail")
def trail_export() -> ResponseReturnValue:
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "jsonl", "bundle"):
        raise BadRequest("format must be csv, jsonl or bundle")
    if fmt == "bundle":
        return _bundle(signed_in())
    rows = reports.export_trail(db(), signed_in(), _filter())
    body = _csv(rows) if fmt == "csv" else _jsonl(rows)
    name = f"itsmflow-audit-{clock.now().strftime('%Y%m%dT%H%M%SZ')}.{fmt}"
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(stream_with_context(body), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _bundle(actor: Actor) -> Response:
    """The same bundle as `itsmflow audit export` for the chosen days (the other filters cannot apply: a bundle is
    an unbroken stretch of the chain, so that `itsmflow audit verify-bundle` checks it offline)."""
    start = audit_bundle.parse_when(request.args.get("from"), name="from")
    end = audit_bundle.parse_when(request.args.get("to"), end=True, name="to")
    database = db()

    def lines() -> Iterator[str]:
        for line in audit_views.export_lines(database, start, end):
            yield line + "\n"

    name = f"itsmflow-audit-bundle-{clock.now().strftime('%Y%m%dT%H%M%SZ')}.jsonl"
    return Response(stream_with_context(lines()), mimetype="application/x-ndjson",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
