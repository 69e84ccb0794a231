"""The catalogue driven through the HTTP API with bearer tokens, over a database with the shipped processes
deployed, the demo users, and a small catalogue made the way a process owner would make it (POST requests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from engine.db.database import Database
from engine.services import users
from tests.api.conftest import Api
from tests.support import deploy_process
from web import create_app
from web.config import Settings

OFFICE = {"id": "office-hours", "name": "Office hours", "time_zone": "Europe/London",
          "hours": [{"day": d, "start": "08:00", "end": "18:00"} for d in ("mon", "tue", "wed", "thu", "fri")],
          "holidays": [{"date": "2026-12-25", "name": "Christmas Day"}]}
NIGHTS = {"id": "weekend-nights", "name": "Weekend nights", "time_zone": "Europe/London",
          "hours": [{"day": "sat", "start": "22:00", "end": "24:00"}, {"day": "sun", "start": "00:00", "end": "06:00"}]}
SERVICES = [
    {"id": "email", "name": "E-mail", "owner_role": "resolver", "tier": 2, "donor_facing": False,
     "support_calendar": "office-hours", "maintenance_calendar": "weekend-nights"},
    {"id": "donor-crm", "name": "Donor CRM", "owner_user": "bob", "tier": 1, "donor_facing": True,
     "support_calendar": "office-hours", "maintenance_calendar": "weekend-nights",
     "description": "Donor records, gifts and campaigns"},
    {"id": "file-shares", "name": "File shares", "owner_role": "resolver", "tier": 3, "donor_facing": False},
]


class CatalogueApi(Api):
    def patch(self, path: str, user: str | None = None, **kw: Any):  # type: ignore[no-untyped-def]
        return self.call("PATCH", path, user, **kw)

    def delete(self, path: str, user: str | None = None, **kw: Any):  # type: ignore[no-untyped-def]
        return self.call("DELETE", path, user, **kw)


def error(resp: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.data[:400])
    body = resp.json["error"]
    if code:
        assert body["code"] == code, body
    return body


def trail(api: Api, kind: str | None = None) -> list[dict[str, Any]]:
    """The whole audit trail as an auditor exports it, optionally only events of one type."""
    resp = api.get("/audit/export?format=jsonl", "heidi")
    assert resp.status_code == 200
    lines = [json.loads(x) for x in resp.data.decode().splitlines() if x.strip()]
    found = [e for e in lines if "type" in e and "seq" in e]
    for e in found:
        if isinstance(e.get("data"), str):
            e["data"] = json.loads(e["data"])
    return [e for e in found if kind in (None, e["type"])]


def make_catalogue(api: Api) -> None:
    for body in (OFFICE, NIGHTS):
        assert api.post("/calendars", "grace", json=body).status_code == 201
    for body in SERVICES:
        resp = api.post("/services", "grace", json=body)
        assert resp.status_code == 201, resp.json


@pytest.fixture
def api(db: Database) -> Iterator[CatalogueApi]:
    users.seed_demo_users(db)
    users.add_user(db, "sam", "demo", ["executive_sponsor"])
    for name in ("response", "change"):
        deploy_process(db, name)
    flask_app = create_app(Settings(database_url=db.url, secret_key="test-secret"), db=db)
    flask_app.testing = False  # errors go through the real handlers
    yield CatalogueApi(flask_app.test_client(), db)


@pytest.fixture
def cat_api(api: CatalogueApi) -> CatalogueApi:
    make_catalogue(api)
    return api


# The Flask test-client fixtures of tests/web (a database with the demo users and the UI's test processes).
from tests.web.conftest import app, client, ui_db, ui_template  # noqa: E402,F401


def seed_catalogue(db: Database) -> None:
    """The same small catalogue, made through the services (for page tests that do not go through the API)."""
    from engine.services import calendars, catalogue
    from tests.conftest import GRACE

    for body in (OFFICE, NIGHTS):
        calendars.create(db, GRACE, body)
    for body in SERVICES:
        catalogue.create(db, GRACE, body)
