"""Mail from unknown senders (and mail that could not be placed), waiting for the service desk's decision."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest, NotFound
from engine.services import desk_config, mail_in, page_views
from web.auth import db
from web.ui.common import page, signed_in, ui


@ui.get("/mail-in")
@page("mail_in")
def held_mail() -> ResponseReturnValue:
    rows = page_views.held_mail(db(), signed_in())
    return render_template("mail_in.html", rows=rows, desk=desk_config.service_desk_address(),
                           process=desk_config.mail_in_process())


@ui.post("/mail-in/<int:mail_id>")
@page("mail_in")
def decide_mail(mail_id: int) -> ResponseReturnValue:
    decision = request.form.get("decision", "")
    try:
        done = mail_in.decide(db(), signed_in(), mail_id, decision, request.form.get("business_key") or None)
    except (BadRequest, NotFound) as exc:
        flash(f"Mail {mail_id}: {exc.message}", "error")
        return redirect(url_for("ui.held_mail"))
    said = {"raised": f"raised as {done['business_key']}", "commented": f"added to {done['business_key']}",
            "rejected": "rejected"}[done["status"]]
    flash(f"Mail from {done['from']} {said}.", "ok")
    return redirect(url_for("ui.held_mail"))
