"""Sign-in, sign-out, the landing page and the error page."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from engine.errors import TooManyAttempts, Unauthenticated
from engine.services import signin
from engine.services.actors import Actor
from web.auth import db
from web.ui.common import actor_or_none, safe_next, ui

__all__ = ["ui", "error_page"]


def error_page(status: int, message: str) -> str:
    return render_template("error.html", status=status, message=message)


def landing(actor: Actor) -> str:
    """Where a person starts: their inbox, unless their job is modelling or auditing."""
    if not actor.roles - {"requester"}:
        return url_for("ui.my_records")  # a requester's own records, and what waits for them
    work = actor.roles - {"requester", "process_owner", "auditor"}
    if not work and actor.has("process_owner"):
        return url_for("ui.processes")
    if not work and actor.has("auditor"):
        return url_for("ui.trail")
    return url_for("ui.inbox")


@ui.get("/")
def home() -> ResponseReturnValue:
    actor = actor_or_none()
    if actor is None:
        return redirect(url_for("ui.login"))
    return redirect(landing(actor))


@ui.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    error = None
    next_url = request.values.get("next", "")
    if request.method == "GET" and actor_or_none() is not None:
        return redirect(safe_next(next_url, url_for("ui.home")))
    if request.method == "POST":
        try:
            actor = signin.authenticate(db(), request.form.get("username", ""), request.form.get("password", ""),
                                        request.remote_addr)
        except (Unauthenticated, TooManyAttempts) as exc:
            error = exc.message
        else:
            session.clear()  # a fresh session (and CSRF token) on sign-in: no fixation
            session["username"] = actor.username
            session["sid"] = signin.open_session(db(), actor.username)  # logout ends it on the server
            session.permanent = True
            return redirect(safe_next(next_url, landing(actor)))
    return render_template("login.html", error=error, username=request.form.get("username", ""),
                           next=safe_next(next_url, "")), (401 if error else 200)


@ui.post("/logout")
def logout() -> ResponseReturnValue:
    if session.get("sid"):
        signin.end_session(db(), session["sid"])  # the cookie, if replayed, no longer signs anyone in
    session.clear()
    return redirect(url_for("ui.login", signed_out=1))
