"""The conversation on a record page (comments, attachments), a person's notifications and their choices, and
the admins' notification templates."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest, DomainError, TooLarge
from engine.services import assign, conversation, desk_views, notifications, readable
from engine.services.actors import Actor
from engine.services.notify_kinds import KINDS
from web.api.conversation import file_response
from web.auth import db
from web.ui.common import actor_or_none, page, safe_next, signed_in, ui


@ui.app_template_global("labels_for")
def labels_for(process: str, version: int) -> dict[str, dict[str, Any]]:
    """Form labels of a process version, for pages that show its data (record, task, timeline)."""
    try:
        return desk_views.labels(db(), process, int(version))
    except Exception:  # noqa: BLE001 - labels are a nicety: without them the page shows humanized names
        return {}


@ui.app_template_global("data_rows")
def data_rows(data: dict[str, Any], labels: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    return readable.rows(labels, data or {})


@ui.app_template_global("assignees_for")
def assignees_for(task_id: str) -> list[str]:
    """The people a dispatcher may give this task to (empty for everyone else)."""
    actor = actor_or_none()
    if actor is None or not assign.may_assign(actor):
        return []
    try:
        return assign.candidates(db(), actor, task_id)
    except DomainError:
        return []


@ui.app_template_global("is_staff")
def is_staff(actor: Actor | None) -> bool:
    return actor is not None and conversation.may_use_internal(actor)


@ui.app_template_filter("readable")
def readable_text(value: Any) -> str:
    return readable.text_of(value)


@ui.app_template_filter("filesize")
def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@ui.app_context_processor
def _unread() -> dict[str, Any]:
    actor = actor_or_none()
    if actor is None:
        return {"unread_notes": 0}
    try:
        return {"unread_notes": desk_views.unread_count(db(), actor)}
    except Exception:  # noqa: BLE001 - a badge must never break a page (the error page included)
        return {"unread_notes": 0}


@ui.post("/records/<ref>/comments")
@page()
def post_comment(ref: str) -> ResponseReturnValue:
    files = [(f.filename or "", f.read()) for f in request.files.getlist("files") if f and f.filename]
    back = safe_next(request.form.get("next"), url_for("ui.record", ref=ref)) + "#conversation"
    try:
        result = conversation.post(db(), signed_in(), ref, request.form.get("body", ""),
                                   request.form.get("visibility", "public"), files)
    except (BadRequest, TooLarge) as exc:
        flash(f"Not added: {exc.message}", "error")
        return redirect(back)
    added = len(result["attachments"])
    flash("Comment added." if not added else f"Added {added} file{'s' if added > 1 else ''}.", "ok")
    return redirect(back)


@ui.get("/records/<ref>/attachments/<int:attachment_id>")
@page()
def download(ref: str, attachment_id: int) -> ResponseReturnValue:
    meta, content = desk_views.download(db(), signed_in(), ref, attachment_id)
    return file_response(meta, content)


@ui.get("/notifications")
@page()
def notifications_page() -> ResponseReturnValue:
    actor = signed_in()
    before = request.args.get("before", "")
    rows, next_cursor, _unread = desk_views.notes(db(), actor, request.args.get("unread") == "1", 50,
                                                  int(before) if before.isdigit() else None)
    prefs = desk_views.preferences(db(), actor)
    return render_template("notifications.html", rows=rows, next_cursor=next_cursor, prefs=prefs,
                           unread_only=request.args.get("unread") == "1")


@ui.post("/notifications/read")
@page()
def notifications_read() -> ResponseReturnValue:
    raw = request.form.get("id", "")
    ids = [int(raw)] if raw.isdigit() else None
    notifications.mark_read(db(), signed_in(), ids)
    target = request.form.get("open", "")
    return redirect(safe_next(target, url_for("ui.notifications_page")))


@ui.post("/notifications/preferences")
@page()
def notifications_preferences() -> ResponseReturnValue:
    choices = {kind: {"in_app": request.form.get(f"{kind}-in_app") == "on",
                      "email": request.form.get(f"{kind}-email") == "on"} for kind in KINDS}
    notifications.set_preferences(db(), signed_in(), choices)
    flash("Your notification settings are saved.", "ok")
    return redirect(url_for("ui.notifications_page") + "#preferences")


@ui.route("/notifications/templates", methods=["GET", "POST"])
@page("notification_templates")
def notification_templates() -> ResponseReturnValue:
    actor = signed_in()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        kind = request.form.get("kind", "")
        reset = request.form.get("reset") == "1"
        try:
            notifications.set_template(db(), actor, kind, "" if reset else request.form.get("subject", ""),
                                       "" if reset else request.form.get("body", ""))
        except BadRequest as exc:
            errors = {f"{kind}-{k}": v for k, v in exc.details.get("fields", {}).items()} or {kind: exc.message}
            status = 422
        else:
            flash(f"Template “{KINDS[kind].title}” {'reset to the default' if reset else 'saved'}.", "ok")
            return redirect(url_for("ui.notification_templates") + f"#t-{kind}")
    rows = desk_views.templates(db(), actor)
    return render_template("notification_templates.html", rows=rows, errors=errors), status
