"""PostgreSQL connections are pinged only after sitting idle: a cut connection is replaced unseen after idling,
and one cut between two quick uses fails one unit of work, after which the pool serves a new one."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from engine.db.database import Database, unit_of_work


def _backend_pid(db: Database) -> int:
    with unit_of_work(db, readonly=True) as uow:
        return int(uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _cut(other_db: Database, pid: int) -> None:
    """Ends that server process from another engine's connection, as a server restart or an idle timeout would."""
    with other_db.engine.connect() as other:
        assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one() is True
        other.commit()


def _database(pg_db: Database, monkeypatch: pytest.MonkeyPatch, idle_seconds: str) -> Database:
    monkeypatch.setenv("ITSMFLOW_DB_PING_IDLE_SECONDS", idle_seconds)
    schema = pg_db.schema  # type: ignore[attr-defined]  # reason: set by the pg_db fixture
    return Database(str(pg_db.engine.url.render_as_string(hide_password=False)),
                    connect_args={"options": f"-csearch_path={schema}"})


def test_an_idle_connection_cut_meanwhile_is_replaced_before_use(pg_db: Database,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    db = _database(pg_db, monkeypatch, "0")  # every checkout counts as idle: pinged
    try:
        first = _backend_pid(db)
        _cut(pg_db, first)
        assert _backend_pid(db) != first  # the ping failed, the pool connected anew, the work went through
    finally:
        db.dispose()


def test_a_connection_cut_between_quick_uses_fails_once_then_the_pool_recovers(
        pg_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _database(pg_db, monkeypatch, "3600")  # never idle long enough: not pinged
    try:
        first = _backend_pid(db)
        _cut(pg_db, first)
        with pytest.raises(OperationalError):
            _backend_pid(db)
        assert _backend_pid(db) != first
    finally:
        db.dispose()
