"""The migration chain and the models agree: after `itsmflow db upgrade` every mapped column exists and no
column exists that the models no longer map (issue 13: unused columns removed with a migration, and put back by
its downgrade), on SQLite and PostgreSQL."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

from engine.db import catalogue, models_auth, models_desk  # noqa: F401 - every mapped table registers on Base.metadata
from engine.db.migrate import alembic_config
from engine.db.models import Base
from tests.conftest import PG_OK, PG_URL, _sa_url

REMOVED = {"process_instance": {"claimed_by", "claimed_until"}, "process_version": {"report_json"}}


def _column_diffs(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    flat = [d for group in diffs for d in (group if isinstance(group, list) else [group])]
    return [d for d in flat if d[0] in ("add_column", "remove_column")]


def _columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def _run(url: str, engine: Engine, revision: str, down: bool = False) -> None:
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _check(url: str, engine: Engine) -> None:
    _run(url, engine, "head")
    assert _column_diffs(engine) == []
    for table, gone in REMOVED.items():
        assert not gone & _columns(engine, table)
    _run(url, engine, "tailor_11-1", down=True)  # to just before the removal
    for table, gone in REMOVED.items():
        assert gone <= _columns(engine, table)
    _run(url, engine, "head")
    assert _column_diffs(engine) == []


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")
def test_schema_matches_the_models_on_sqlite() -> None:
    path = Path(tempfile.mkdtemp()) / "schema.db"
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    try:
        _check(url, engine)
    finally:
        engine.dispose()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")
def test_schema_matches_the_models_on_postgres() -> None:
    if not PG_OK:
        pytest.skip("PostgreSQL not reachable (ITSMFLOW_TEST_POSTGRES_URL)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = _sa_url(PG_URL)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        _check(url, engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
