"""The thin Flask front end: app factory, JSON API, pages. Views parse, call one service, render."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from engine.services.app_start import Handle, open_handle
from engine.services.desk_config import attachment_limits
from web import errors, security_headers
from web.auth import check_csrf, csrf_token
from web.config import Settings
from web.cookie_session import CookieSessions
from web.json_input import StrictJSONProvider


def create_app(settings: Settings | None = None, db: Handle | None = None, **overrides: Any) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_relative_config=False)
    app.json = StrictJSONProvider(app)
    app.session_interface = CookieSessions()
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=10),
        # Room for the largest attachment allowed (desk_config) plus the form around it.
        MAX_CONTENT_LENGTH=max(4 * 1024 * 1024, attachment_limits().max_bytes + 256 * 1024),
    )
    app.config.update(overrides)
    # Answers keep the order the services built them in (Flask 3 reads this, not JSON_SORT_KEYS): sorting every
    # response's keys was work for nothing.
    app.json.sort_keys = False
    app.extensions["itsmflow.db"] = db or open_handle(settings.database_url)
    app.extensions["itsmflow.settings"] = settings
    app.before_request(check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token
    errors.register(app)
    security_headers.register(app)

    from web.api import api

    app.register_blueprint(api, url_prefix="/api/v1")
    from web.ui import register_ui

    register_ui(app)
    return app
