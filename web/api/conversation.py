"""Comments and attachments on a record, and a person's notifications, preferences and (admins) templates."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, jsonify, request

from engine.db.database import unit_of_work
from engine.errors import BadRequest
from engine.services import conversation, instances, mail_in, notifications
from web.api import api
from web.api.helpers import int_arg, json_body
from web.auth import current_actor, db, login_required


@api.get("/instances/<ref>/comments")
@login_required
def list_comments(ref: str):  # type: ignore[no-untyped-def]
    with unit_of_work(db(), readonly=True) as uow:
        actor = current_actor()
        inst = instances.find(uow, actor, ref)  # type: ignore[arg-type]
        return jsonify({"comments": conversation.comments(uow, actor, inst)})  # type: ignore[arg-type]


@api.post("/instances/<ref>/comments")
@login_required
def add_comment(ref: str):  # type: ignore[no-untyped-def]
    body = json_body()
    source = "api" if request.headers.get("Authorization", "").startswith("Bearer ") else "web"
    return jsonify(conversation.add_comment(db(), current_actor(), ref, body.get("body"),  # type: ignore[arg-type]
                                            body.get("visibility", "public"), source)), 201


@api.get("/instances/<ref>/attachments")
@login_required
def list_attachments(ref: str):  # type: ignore[no-untyped-def]
    with unit_of_work(db(), readonly=True) as uow:
        actor = current_actor()
        inst = instances.find(uow, actor, ref)  # type: ignore[arg-type]
        return jsonify({"attachments": conversation.attachments(uow, actor, inst)})  # type: ignore[arg-type]


@api.post("/instances/<ref>/attachments")
@login_required
def add_attachment(ref: str):  # type: ignore[no-untyped-def]
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("send the file as multipart/form-data in the field `file`", fields={"file": "is required"})
    content = upload.read()
    return jsonify(conversation.add_attachment(db(), current_actor(), ref, upload.filename,  # type: ignore[arg-type]
                                               content, request.form.get("visibility", "public"))), 201


def file_response(meta: dict, content: bytes) -> Response:  # type: ignore[type-arg]
    """The file as a download, never rendered in the app's origin."""
    name = meta["filename"]
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    return Response(content, mimetype=meta["content_type"], headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "X-Content-SHA256": meta["sha256"], "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox", "Cache-Control": "private, no-store"})


@api.get("/instances/<ref>/attachments/<int:attachment_id>")
@login_required
def download_attachment(ref: str, attachment_id: int):  # type: ignore[no-untyped-def]
    with unit_of_work(db(), readonly=True) as uow:
        meta, content = conversation.download(uow, current_actor(), ref, attachment_id)  # type: ignore[arg-type]
    return file_response(meta, content)


@api.get("/notifications")
@login_required
def list_notifications():  # type: ignore[no-untyped-def]
    cursor = request.args.get("cursor", "")
    with unit_of_work(db(), readonly=True) as uow:
        actor = current_actor()
        rows, next_cursor = notifications.listing(uow, actor, request.args.get("unread") in ("1", "true"),  # type: ignore[arg-type]
                                                  int_arg("limit", 50), int(cursor) if cursor.isdigit() else None)
        return jsonify({"notifications": rows, "unread": notifications.unread_count(uow, actor),  # type: ignore[arg-type]
                        "next_cursor": next_cursor})


@api.post("/notifications/read")
@login_required
def read_notifications():  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    ids = body.get("ids")
    if ids is not None and not isinstance(ids, list):
        raise BadRequest("ids must be a list", fields={"ids": "must be a list"})
    return jsonify({"marked": notifications.mark_read(db(), current_actor(), ids)})  # type: ignore[arg-type]


@api.get("/notifications/preferences")
@login_required
def get_preferences():  # type: ignore[no-untyped-def]
    with unit_of_work(db(), readonly=True) as uow:
        return jsonify({"preferences": notifications.preferences(uow, current_actor())})  # type: ignore[arg-type]


@api.put("/notifications/preferences")
@login_required
def put_preferences():  # type: ignore[no-untyped-def]
    body = json_body()
    return jsonify({"preferences": notifications.set_preferences(db(), current_actor(),  # type: ignore[arg-type]
                                                                 body.get("preferences"))})


@api.get("/notification-templates")
@login_required
def get_templates():  # type: ignore[no-untyped-def]
    with unit_of_work(db(), readonly=True) as uow:
        return jsonify({"templates": notifications.templates(uow, current_actor())})  # type: ignore[arg-type]


@api.put("/notification-templates/<kind>")
@login_required
def put_template(kind: str):  # type: ignore[no-untyped-def]
    body = json_body()
    return jsonify(notifications.set_template(db(), current_actor(), kind, body.get("subject"),  # type: ignore[arg-type]
                                              body.get("body")))


@api.get("/inbound-mail")
@login_required
def held_mail():  # type: ignore[no-untyped-def]
    with unit_of_work(db(), readonly=True) as uow:
        return jsonify({"mail": mail_in.held(uow, current_actor())})  # type: ignore[arg-type]


@api.post("/inbound-mail/<int:mail_id>/decision")
@login_required
def decide_mail(mail_id: int):  # type: ignore[no-untyped-def]
    body = json_body()
    key = body.get("business_key")
    return jsonify(mail_in.decide(db(), current_actor(), mail_id, str(body.get("decision") or ""),  # type: ignore[arg-type]
                                  key if isinstance(key, str) else None))
