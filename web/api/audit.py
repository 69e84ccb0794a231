from __future__ import annotations

from flask import jsonify

from engine.db.database import unit_of_work
from engine.services import audit
from web.api import api
from web.auth import db, roles_required


@api.get("/audit/verify")
@roles_required("auditor", "admin")
def verify():  # type: ignore[no-untyped-def]
    with unit_of_work(db()) as uow:
        return jsonify(audit.verify(uow).to_dict())
