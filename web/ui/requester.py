"""Requester self-service: my records (raised by me, naming me, and the records linked to them), one record's
status, what happens next, its public timeline and conversation, and withdrawing it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest
from engine.services import conversation, page_views, self_service
from engine.services.desk_config import attachment_limits
from web.auth import db
from web.ui.common import page, signed_in, ui


@ui.get("/my")
@page()
def my_records() -> ResponseReturnValue:
    rows = page_views.my_records(db(), signed_in())
    waiting = [r for r in rows if r["next"]["yours"]]
    return render_template("my_records.html", rows=rows, waiting=waiting)


@ui.get("/my/<ref>")
@page()
def my_record(ref: str) -> ResponseReturnValue:
    actor = signed_in()
    rec = page_views.my_record(db(), actor, ref)
    limits = attachment_limits()
    return render_template("my_record.html", rec=rec, record={"business_key": rec["business_key"]},
                           conversation=rec["conversation"], may_internal=conversation.may_use_internal(actor),
                           upload_max=limits.max_bytes, upload_types=sorted(limits.types))


@ui.post("/my/<ref>/withdraw")
@page()
def withdraw(ref: str) -> ResponseReturnValue:
    try:
        done = self_service.withdraw(db(), signed_in(), ref, request.form.get("reason", ""))
    except BadRequest as exc:
        flash(f"Not withdrawn: {exc.message}", "error")
        return redirect(url_for("ui.my_record", ref=ref))
    flash(f"{done['business_key']} is withdrawn.", "ok")
    return redirect(url_for("ui.my_record", ref=done["business_key"]))
