"""The lean CMDB over the API: configuration items, their history, CSV import and export."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest
from engine.services import catalogue_views, cmdb, cmdb_csv
from web.api import api
from web.api.helpers import json_body
from web.api.openapi import PATHS, STR, _json, _op
from web.api.owner_helpers import actor
from web.auth import db, login_required

IDS = {"type": "array", "items": STR}
CI_BODY = _json({"id": STR, "name": STR, "type": {"type": "string", "enum": list(cmdb.TYPES)}, "description": STR,
                 "owner_user": STR, "owner_role": STR, "services": IDS, "depends_on": IDS, "runs_on": IDS,
                 "active": {"type": "boolean"}})
PATHS.update({
    "/cis": {
        "get": _op("Configuration items (filters: service, type; include_retired=1)", "catalogue"),
        "post": _op("Add a configuration item (process owners, admins; owners of the services it serves)",
                    "catalogue", 201, CI_BODY, (400, 401, 403, 409, 422)),
    },
    "/cis/{id}": {
        "get": _op("One configuration item, with the CIs that relate to it (used_by)", "catalogue"),
        "patch": _op("Edit a configuration item (its owner and its services' owners: not ownership or "
                     "retirement; process owners, admins: all)", "catalogue", 200, CI_BODY,
                     (400, 401, 403, 404, 409, 422)),
        "delete": _op("Delete a configuration item no other relates to (process owners, admins)", "catalogue",
                      204, None, (401, 403, 404, 409)),
    },
    "/cis/{id}/history": {"get": _op("Every edit of the CI, from the audit trail", "catalogue")},
    "/cis.csv": {
        "get": _op("Every configuration item as CSV", "catalogue"),
        "post": _op("Import configuration items from CSV (text/csv body or a multipart file): all or nothing",
                    "catalogue", 200, None, (400, 401, 403, 409, 413, 422)),
    },
})


@api.get("/cis")
@login_required
def list_cis() -> ResponseReturnValue:
    retired = request.args.get("include_retired", "") in ("1", "true", "yes")
    return jsonify({"cis": catalogue_views.items(db(), service=request.args.get("service") or None,
                                                 type_=request.args.get("type") or None, include_retired=retired)})


@api.post("/cis")
@login_required
def create_ci() -> ResponseReturnValue:
    return jsonify(cmdb.create(db(), actor(), json_body())), 201


@api.get("/cis/<ref>")
@login_required
def get_ci(ref: str) -> ResponseReturnValue:
    return jsonify(catalogue_views.item(db(), ref))


@api.patch("/cis/<ref>")
@login_required
def update_ci(ref: str) -> ResponseReturnValue:
    return jsonify(cmdb.update(db(), actor(), ref, json_body()))


@api.delete("/cis/<ref>")
@login_required
def delete_ci(ref: str) -> ResponseReturnValue:
    cmdb.delete_item(db(), actor(), ref)
    return "", 204


@api.get("/cis/<ref>/history")
@login_required
def ci_history(ref: str) -> ResponseReturnValue:
    return jsonify({"ci": ref, "events": catalogue_views.item_history(db(), ref)})


@api.get("/cis.csv")
@login_required
def export_cis() -> ResponseReturnValue:
    return Response(cmdb_csv.export(db()), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=configuration-items.csv"})


def uploaded_csv() -> bytes:
    """The CSV of an import: a multipart `file`, or the request body itself."""
    if request.files:
        upload = request.files.get("file")
        if upload is None:
            raise BadRequest("send the CSV as the multipart field `file`", fields={"file": "is required"})
        return upload.read(cmdb_csv.MAX_BYTES + 1)
    data = request.get_data(cache=False)
    if not data:
        raise BadRequest("the request has no CSV", fields={"file": "is required"})
    return data


@api.post("/cis.csv")
@login_required
def import_cis() -> ResponseReturnValue:
    return jsonify(cmdb_csv.import_csv(db(), actor(), uploaded_csv()))
