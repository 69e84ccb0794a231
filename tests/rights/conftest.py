"""The shipped processes behind the HTTP API with the demo users: the decision-rights scenarios (issue 12)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine.db.database import Database
from engine.services import users
from tests.api.conftest import Api
from tests.support import deploy_process
from web import create_app
from web.config import Settings


@pytest.fixture
def shipped(db: Database) -> Iterator[Api]:
    users.seed_demo_users(db)
    for name in ("triage", "response", "change", "release"):
        deploy_process(db, name)
    app = create_app(Settings(database_url=db.url, secret_key="test-secret"), db=db)
    app.testing = False  # errors go through the real handlers
    yield Api(app.test_client(), db)


def ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.data[:600])
    return resp.json


def refused(resp: Any, status: int = 422) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.data[:600])
    return resp.json["error"]


def task(api: Api, key: str, element_id: str) -> dict[str, Any]:
    found = [t for t in ok(api.get(f"/instances/{key}", "heidi"))["tasks"] if t["element_id"] == element_id]
    assert found, (element_id, [t["element_id"] for t in ok(api.get(f"/instances/{key}", "heidi"))["tasks"]])
    return found[0]


def complete(api: Api, user: str, key: str, element_id: str, data: dict[str, Any]) -> Any:
    return api.post(f"/tasks/{task(api, key, element_id)['id']}/complete", user, json={"data": data})


def do(api: Api, user: str, key: str, element_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return ok(complete(api, user, key, element_id, data))


def record(api: Api, key: str) -> dict[str, Any]:
    return ok(api.get(f"/instances/{key}", "heidi"))["data"]
