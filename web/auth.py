"""Who is calling: a bearer token (API) or the signed session cookie (browser), plus CSRF for the latter."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request, session

from engine.errors import NotAllowed, NotFound, Unauthenticated
from engine.services import signin, users
from engine.services.actors import Actor
from engine.services.app_start import Handle

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def db() -> Handle:
    handle: Handle = current_app.extensions["itsmflow.db"]
    return handle


def current_actor(required: bool = True) -> Actor | None:
    if "actor" in g:
        return g.actor
    actor = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        actor = users.actor_for_token(db(), header.removeprefix("Bearer ").strip())
        g.via_token = True
    elif session.get("username"):
        try:
            # A session signed in through the login page has a server-side record that logout ends.
            if session.get("sid") and not signin.session_is_live(db(), session["sid"], session["username"]):
                raise NotFound("session ended")
            actor = users.actor_for(db(), session["username"])
        except NotFound:
            session.clear()
    if actor is None and required:
        raise Unauthenticated("sign in or send a bearer token")
    g.actor = actor
    return actor


def login_required(fn: F) -> F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_actor()
        return fn(*args, **kwargs)

    return cast(F, wrapper)


def roles_required(*roles: str) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            assert actor is not None
            if not actor.has(*roles):
                raise NotAllowed(f"this needs one of the roles {', '.join(roles)}")
            return fn(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def check_csrf() -> None:
    """Every state-changing request that rides on the session cookie must carry the session's token."""
    if request.method in SAFE_METHODS or request.headers.get("Authorization", "").startswith("Bearer "):
        return
    if request.path.startswith("/api/v1/tokens"):
        return  # password -> token: nothing of the session is used
    if not session.get("username") and request.endpoint == "ui.login":
        sent = request.form.get("csrf_token", "")
        if not hmac.compare_digest(sent, session.get("csrf", "")) or not sent:
            raise NotAllowed("the form expired; reload the page and try again")
        return
    if not session.get("username"):
        return  # nothing to forge: the request will be refused as unauthenticated
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        raise NotAllowed("missing or wrong CSRF token")
