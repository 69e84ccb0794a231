"""Flask test-client fixtures: a fresh database per test copied from a session template (users seeded,
processes deployed), the app over it, and signing in by session (the password check is tested once, in
test_session.py; scrypt is slow on purpose)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.db.database import Database
from tests.web.support import build_template, fresh_db
from web import create_app
from web.config import Settings


@pytest.fixture(scope="session")
def ui_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(sqlite_template, tmp_path_factory.mktemp("ui") / "template.db")


@pytest.fixture
def ui_db(ui_template: Path, tmp_path: Path) -> Iterator[Database]:
    db = fresh_db(ui_template, tmp_path)
    yield db
    db.dispose()


def make_app(db: Database) -> Flask:
    return create_app(Settings(db.url, "test-secret-key"), db, TESTING=True)


@pytest.fixture
def app(ui_db: Database) -> Flask:
    return make_app(ui_db)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign_in(client: FlaskClient, username: str) -> str:
    """Puts the user in the session as /login would; returns the session's CSRF token."""
    token = f"csrf-{username}"
    with client.session_transaction() as session:
        session.clear()
        session["username"] = username
        session["csrf"] = token
    return token
