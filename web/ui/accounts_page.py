"""Accounts for administrators: every account with its roles and state, a form per account to set its roles or
deactivate / reactivate it, each with a reason (the service checks the role, the lockout rule and writes the
audit event; this page only turns the form into a call)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest, Conflict, NotFound, ValidationFailed
from engine.services import accounts
from web.auth import db
from web.ui.common import page, signed_in, ui


@ui.get("/admin/users")
@page("accounts")
def accounts_page() -> ResponseReturnValue:
    return render_template("accounts.html", rows=accounts.listing(db(), signed_in()),
                           roles=accounts.known_roles(db()), me=signed_in().username)


@ui.post("/admin/users/<username>")
@page("accounts")
def change_account(username: str) -> ResponseReturnValue:
    action = request.form.get("action", "")
    changes: dict[str, object] = {"roles": request.form.getlist("role")} if action == "roles" else \
        {"active": action == "reactivate"} if action in ("deactivate", "reactivate") else {}
    if not changes:
        flash(f"{username}: choose save roles, deactivate or reactivate.", "error")
        return redirect(url_for("ui.accounts_page"))
    try:
        done = accounts.update(db(), signed_in(), username, request.form.get("reason"), **changes)
    except (BadRequest, Conflict, NotFound, ValidationFailed) as exc:
        flash(f"{username}: {exc.message}", "error")
        return redirect(url_for("ui.accounts_page"))
    if action == "roles":
        flash(f"{username}: roles are now {', '.join(done['roles'])}.", "ok")
    else:
        flash(f"{username} is {'active again' if done['active'] else 'deactivated: tokens revoked, sessions ended'}.",
              "ok")
    return redirect(url_for("ui.accounts_page"))
