"""Dead letters for administrators: messages whose retries ran out, each with a redeliver and a discard form
(a reason each; the service checks the role and writes the audit event)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest, Conflict, NotFound
from engine.services import dead_letters
from web.auth import db
from web.ui.common import page, signed_in, ui


@ui.get("/admin/dead-letters")
@page("dead_letters")
def dead_letters_page() -> ResponseReturnValue:
    return render_template("dead_letters.html", rows=dead_letters.listing(db(), signed_in()))


@ui.post("/admin/dead-letters/<int:message_id>")
@page("dead_letters")
def decide_dead_letter(message_id: int) -> ResponseReturnValue:
    act = {"redeliver": dead_letters.redeliver, "discard": dead_letters.discard}.get(request.form.get("action", ""))
    if act is None:
        flash(f"Message {message_id}: choose redeliver or discard.", "error")
        return redirect(url_for("ui.dead_letters_page"))
    try:
        done = act(db(), signed_in(), message_id, request.form.get("reason"))
    except (BadRequest, Conflict, NotFound) as exc:
        flash(f"Message {message_id}: {exc.message}", "error")
        return redirect(url_for("ui.dead_letters_page"))
    if done["status"] == "discarded":
        flash(f"Message {message_id} ({done['name']}) discarded.", "ok")
    elif done["status"] == "delivered":
        flash(f"Message {message_id} ({done['name']}) delivered.", "ok")
    else:
        flash(f"Message {message_id} ({done['name']}) is pending again: nobody takes it yet, the worker retries "
              "it.", "ok")
    return redirect(url_for("ui.dead_letters_page"))
