"""Sign-in and the shell of the front end."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for

from engine.errors import Unauthenticated
from engine.services import users
from web.auth import current_actor, db

ui = Blueprint("ui", __name__, template_folder="../templates")


def error_page(status: int, message: str) -> str:
    return render_template("error.html", status=status, message=message)


@ui.get("/")
def home():  # type: ignore[no-untyped-def]
    actor = current_actor(required=False)
    if actor is None:
        return redirect(url_for("ui.login"))
    return render_template("home.html", actor=actor)


@ui.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    error = None
    if request.method == "POST":
        try:
            actor = users.authenticate(db(), request.form.get("username", ""), request.form.get("password", ""))
        except Unauthenticated as exc:
            error = exc.message
        else:
            session.clear()
            session["username"] = actor.username
            session.permanent = True
            return redirect(url_for("ui.home"))
    return render_template("login.html", error=error, username=request.form.get("username", "")), (
        401 if error else 200)


@ui.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    session.clear()
    return redirect(url_for("ui.login"))
