"""Comments and attachments on a record, and a person's notifications, preferences and (admins) templates."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest
from engine.services import conversation, desk_views, mail_in, notifications, page_views
from web.api import api
from web.api.helpers import int_arg, json_body
from web.api.owner_helpers import actor
from web.auth import db, login_required


@api.get("/instances/<ref>/comments")
@login_required
def list_comments(ref: str) -> ResponseReturnValue:
    return jsonify({"comments": desk_views.comments(db(), actor(), ref)})


@api.post("/instances/<ref>/comments")
@login_required
def add_comment(ref: str) -> ResponseReturnValue:
    body = json_body()
    source = "api" if request.headers.get("Authorization", "").startswith("Bearer ") else "web"
    return jsonify(conversation.add_comment(db(), actor(), ref, body.get("body"),
                                            body.get("visibility", "public"), source)), 201


@api.get("/instances/<ref>/attachments")
@login_required
def list_attachments(ref: str) -> ResponseReturnValue:
    return jsonify({"attachments": desk_views.attachments(db(), actor(), ref)})


@api.post("/instances/<ref>/attachments")
@login_required
def add_attachment(ref: str) -> ResponseReturnValue:
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("send the file as multipart/form-data in the field `file`", fields={"file": "is required"})
    content = upload.read()
    return jsonify(conversation.add_attachment(db(), actor(), ref, upload.filename,
                                               content, request.form.get("visibility", "public"))), 201


def file_response(meta: dict[str, Any], content: bytes) -> Response:
    """The file as a download, never rendered in the app's origin."""
    name = meta["filename"]
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    return Response(content, mimetype=meta["content_type"], headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "X-Content-SHA256": meta["sha256"], "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox", "Cache-Control": "private, no-store"})


@api.get("/instances/<ref>/attachments/<int:attachment_id>")
@login_required
def download_attachment(ref: str, attachment_id: int) -> ResponseReturnValue:
    meta, content = desk_views.download(db(), actor(), ref, attachment_id)
    return file_response(meta, content)


@api.get("/notifications")
@login_required
def list_notifications() -> ResponseReturnValue:
    cursor = request.args.get("cursor", "")
    rows, next_cursor, unread = desk_views.notes(db(), actor(), request.args.get("unread") in ("1", "true"),
                                                 int_arg("limit", 50), int(cursor) if cursor.isdigit() else None)
    return jsonify({"notifications": rows, "unread": unread, "next_cursor": next_cursor})


@api.post("/notifications/read")
@login_required
def read_notifications() -> ResponseReturnValue:
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    ids = body.get("ids")
    if ids is not None and not isinstance(ids, list):
        raise BadRequest("ids must be a list", fields={"ids": "must be a list"})
    return jsonify({"marked": notifications.mark_read(db(), actor(), ids)})


@api.get("/notifications/preferences")
@login_required
def get_preferences() -> ResponseReturnValue:
    return jsonify({"preferences": desk_views.preferences(db(), actor())})


@api.put("/notifications/preferences")
@login_required
def put_preferences() -> ResponseReturnValue:
    body = json_body()
    return jsonify({"preferences": notifications.set_preferences(db(), actor(),
                                                                 body.get("preferences"))})


@api.get("/notification-templates")
@login_required
def get_templates() -> ResponseReturnValue:
    return jsonify({"templates": desk_views.templates(db(), actor())})


@api.put("/notification-templates/<kind>")
@login_required
def put_template(kind: str) -> ResponseReturnValue:
    body = json_body()
    return jsonify(notifications.set_template(db(), actor(), kind, body.get("subject"),
                                              body.get("body")))


@api.get("/inbound-mail")
@login_required
def held_mail() -> ResponseReturnValue:
    return jsonify({"mail": page_views.held_mail(db(), actor())})


@api.post("/inbound-mail/<int:mail_id>/decision")
@login_required
def decide_mail(mail_id: int) -> ResponseReturnValue:
    body = json_body()
    key = body.get("business_key")
    return jsonify(mail_in.decide(db(), actor(), mail_id, str(body.get("decision") or ""),
                                  key if isinstance(key, str) else None))
