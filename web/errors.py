"""Domain errors -> HTTP status and the documented error shape, in one place."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException

from engine import errors as domain
from engine.rules import RulesError
from engine.services import step_guard

STATUS: dict[type[domain.DomainError], int] = {
    domain.BadRequest: 400,
    domain.Unauthenticated: 401,
    domain.NotAllowed: 403,
    domain.NotFound: 404,
    domain.Conflict: 409,
    domain.TooLarge: 413,
    domain.TooManyAttempts: 429,
    domain.ValidationFailed: 422,
    domain.DeploymentRefused: 422,
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register(app: Flask) -> None:
    @app.errorhandler(domain.DomainError)
    def _domain(exc: domain.DomainError) -> ResponseReturnValue:
        # A subclass answers as the error it refines (WriteConflict, the database's refusal, is a Conflict: 409).
        status = next((STATUS[kind] for kind in type(exc).__mro__ if kind in STATUS), 400)
        headers = {"Retry-After": str(exc.details["retry_after"])} if "retry_after" in exc.details else {}
        if wants_json():
            return jsonify(error_body(exc.code, exc.message, exc.details)), status, headers
        from web.ui.pages import error_page

        return error_page(status, exc.message), status, headers

    @app.errorhandler(RulesError)
    def _rules(exc: RulesError) -> ResponseReturnValue:
        return jsonify(error_body("rules_error", str(exc))), 422

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        if not wants_json():
            from web.ui.pages import error_page

            return error_page(exc.code or 500, exc.description or exc.name or "error"), exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        return jsonify(error_body(code, exc.description or exc.name or "error")), exc.code or 500

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        if isinstance(exc, DataError):
            # A value the database refuses (too long for its column, out of range): the request's fault.
            reason = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
            return jsonify(error_body("bad_request", f"a value does not fit the database: {reason}; "
                                      "nothing was changed")), 400
        if isinstance(exc, DBAPIError) and not isinstance(exc, IntegrityError):
            # The database failed under the request (gone, locked, a schema it does not have): the request's
            # transaction was rolled back, so nothing of it was kept.
            app.logger.exception("database fault")
            message = "the database failed under this request; nothing was changed"
            if step_guard.is_connection_error(exc):
                message += ", try again"
            if not wants_json():
                from web.ui.pages import error_page

                return error_page(503, f"The {message}."), 503
            return jsonify(error_body("database_error", message)), 503
        app.logger.exception("unexpected error")
        if not wants_json():
            from web.ui.pages import error_page

            return error_page(500, "Something went wrong on our side. Nothing you entered was stored."), 500
        return jsonify(error_body("internal_error", "something went wrong on our side")), 500
