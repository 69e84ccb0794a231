"""Accounts for administrators: list, change roles, deactivate or reactivate, reset a password (reason each)."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from engine.services import accounts
from web.api import api
from web.api.helpers import act_required, json_body
from web.api.openapi import PATHS, _json, _op
from web.api.owner_helpers import actor
from web.auth import db

STR = {"type": "string"}
PATHS.update({
    "/users": {"get": _op("Every account: user name, display name, e-mail, roles, active, last browser sign-in "
                          "(admin)", "users", errors=(401, 403))},
    "/users/{username}": {
        "get": _op("One account (admin)", "users"),
        "patch": _op(
            "Set an account's roles (the whole list; requester is always kept) and/or deactivate (active: false; "
            "revokes its tokens and ends its sessions) or reactivate it. A reason is required; audited as "
            "admin.roles_changed / admin.account_deactivated / admin.account_reactivated. 409: an administrator "
            "locking themselves out, or the last active administrator", "users", 200,
            _json({"roles": {"type": "array", "items": STR}, "active": {"type": "boolean"}, "reason": STR},
                  ["reason"]), (400, 401, 403, 404, 409, 422))},
    "/users/{username}/password": {"post": _op(
        "Reset an account's password (minimum length as for new accounts; revokes its tokens and ends its "
        "sessions; a reason is required; audited as admin.password_reset)", "users", 200,
        _json({"password": STR, "reason": STR}, ["password", "reason"]), (400, 401, 403, 404, 422))},
})


@api.get("/users")
@act_required("accounts")
def list_accounts() -> ResponseReturnValue:
    return jsonify({"users": accounts.listing(db(), actor())})


@api.get("/users/<username>")
@act_required("accounts")
def get_account(username: str) -> ResponseReturnValue:
    return jsonify(accounts.account(db(), actor(), username))


@api.patch("/users/<username>")
@act_required("accounts")
def update_account(username: str) -> ResponseReturnValue:
    body = json_body()
    return jsonify(accounts.update(db(), actor(), username, body.get("reason"), roles=body.get("roles"),
                                   active=body.get("active")))


@api.post("/users/<username>/password")
@act_required("accounts")
def reset_password(username: str) -> ResponseReturnValue:
    body = json_body()
    return jsonify(accounts.reset_password(db(), actor(), username, body.get("password"), body.get("reason")))
