"""An install with nothing deployed, driven through the HTTP API as a process owner bringing diagrams from other
modellers would."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.db.database import Database
from engine.services import users
from tests.api.conftest import Api
from web import create_app
from web.config import Settings

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def api(db: Database) -> Iterator[Api]:
    users.seed_demo_users(db)
    users.add_user(db, "worker", "demo", ["integration"])
    app = create_app(Settings(database_url=db.url, secret_key="test-secret"), db=db)
    app.testing = False
    yield Api(app.test_client(), db)


def upload(api: Api, key: str, name: str | bytes, *, lanes: dict[str, str] | None = None,
           default_role: str | None = None, extra: list[tuple[str, bytes]] | None = None) -> Any:
    """POSTs a fixture file (or raw bytes) as the upload page does; returns the response."""
    data = (FIXTURES / name).read_bytes() if isinstance(name, str) else name
    form: dict[str, Any] = {"bpmn": (io.BytesIO(data), f"{key}.bpmn")}
    if lanes is not None:
        form["lanes"] = json.dumps(lanes)
    if default_role is not None:
        form["default_role"] = default_role
    return api.post(f"/processes/{key}/versions", "grace", data=form, content_type="multipart/form-data")


def deployed(api: Api, key: str, name: str | bytes, **kw: Any) -> dict[str, Any]:
    resp = upload(api, key, name, **kw)
    assert resp.status_code == 201, resp.json
    return resp.json


def refused(api: Api, key: str, name: str | bytes, **kw: Any) -> list[dict[str, Any]]:
    resp = upload(api, key, name, **kw)
    assert resp.status_code == 422, (resp.status_code, resp.json)
    return resp.json["error"]["details"]["problems"]
