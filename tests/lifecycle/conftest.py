"""The process owners' lifecycle through the JSON API, on SQLite and PostgreSQL: the `api` fixture of tests/api
(demo users, `response` deployed from processes/, bearer tokens)."""

from __future__ import annotations

from tests.api.conftest import Api, api

__all__ = ["Api", "api"]
