"""The accounts directory: who a requester or reporter field may name (staff only)."""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from engine.services import people
from web.api import api
from web.api.helpers import int_arg
from web.api.openapi import PATHS, _op
from web.auth import current_actor, db, login_required

PATHS.update({"/people": {"get": _op(
    "Active accounts a requester or reporter field may name (q: part of a user or display name; limit)",
    "people", errors=(401, 403))}})


@api.get("/people")
@login_required
def list_people() -> ResponseReturnValue:
    query = (request.args.get("q") or "")[:80]
    actor = current_actor()
    assert actor is not None  # login_required
    return jsonify({"people": people.directory(db(), actor, query, int_arg("limit", 50))})
