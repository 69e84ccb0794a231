from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from engine.db.database import Database
from engine.services import users
from tests.support import deploy_process
from web import create_app
from web.config import Settings


class Api:
    """A test client that speaks the JSON API with bearer tokens, as an integration would."""

    def __init__(self, client: FlaskClient, db: Database) -> None:
        self.client = client
        self.db = db
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        """A token that does not expire: tests travel in time, and one issued at a travelled date would be past
        its expiry at the real one (signing in for a token is tested in test_sessions_tokens.py)."""
        if username not in self.tokens:
            self.tokens[username] = users.issue_token(self.db, username, hours=0)["token"]
        return self.tokens[username]

    def call(self, method: str, path: str, user: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
        headers = kwargs.pop("headers", {})
        if user:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, path: str, user: str | None = None, **kw):  # type: ignore[no-untyped-def]
        return self.call("GET", path, user, **kw)

    def post(self, path: str, user: str | None = None, **kw):  # type: ignore[no-untyped-def]
        return self.call("POST", path, user, **kw)

    def put(self, path: str, user: str | None = None, **kw):  # type: ignore[no-untyped-def]
        return self.call("PUT", path, user, **kw)

    def patch(self, path: str, user: str | None = None, **kw):  # type: ignore[no-untyped-def]
        return self.call("PATCH", path, user, **kw)


def api_on(db: Database) -> Api:
    """The API over `db` with the demo users and the response process, errors through the real handlers."""
    users.seed_demo_users(db)
    deploy_process(db, "response")
    app = create_app(Settings(database_url=db.url, secret_key="test-secret"), db=db)
    app.testing = False
    return Api(app.test_client(), db)


@pytest.fixture
def api(db: Database) -> Iterator[Api]:
    yield api_on(db)
