"""The database handle and the unit of work. Only services commit, and only through a UnitOfWork."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import WriteConflict


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN IMMEDIATE: writers queue on the lock (busy_timeout)
        # instead of failing when a read transaction tries to upgrade.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Readers take no write lock (WAL lets them run beside a writer); writers queue for it up front.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READONLY) else "BEGIN IMMEDIATE")


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Pings a pooled connection before use only when it sat idle longer than idle_seconds.

    SQLAlchemy's pool_pre_ping pings on every checkout: one extra round trip per unit of work, 2-3 per API
    request (bench B4). A connection back from the pool milliseconds ago is almost surely alive; one that sat
    idle may have been cut (a server restart, a firewall's idle timeout), so it is pinged, and replaced when the
    ping fails. A connection that dies between two quick uses fails its statement: the pool is then renewed
    and the request answers 503 (the worker reconnects and retries)."""

    @event.listens_for(engine.pool, "checkin")
    def _checkin(_dbapi: Any, record: Any) -> None:
        if record is not None:
            record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is not None and time.monotonic() - returned < idle_seconds:
            return
        try:
            cursor = dbapi.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
        except Exception as exc:  # any failure means a dead connection: the pool takes a new one
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc


READONLY = "itsmflow_readonly"


class Database:
    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        if url.startswith("sqlite"):
            engine_options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        else:
            # Sized to the process: a gunicorn worker serves 4 requests at once (gthread, 4 threads: see
            # docs/performance.md), the timer worker one; each holds one unit of work (two, nested, on a token
            # cache miss). Connections open only when used: 8 web processes (at most 7 each) and 8 workers (1-2
            # each) stay within PostgreSQL's default max_connections of 100. Beyond that, callers queue.
            engine_options.setdefault("pool_size", int(os.environ.get("ITSMFLOW_DB_POOL_SIZE", "4")))
            engine_options.setdefault("max_overflow", int(os.environ.get("ITSMFLOW_DB_MAX_OVERFLOW", "3")))
        self.engine = create_engine(url, **engine_options)
        if self.engine.dialect.name == "sqlite":
            _sqlite_setup(self.engine)
        elif not engine_options.get("pool_pre_ping"):
            _ping_when_idle(self.engine, float(os.environ.get("ITSMFLOW_DB_PING_IDLE_SECONDS", "5")))
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    """One transaction. Leaving the block without commit() rolls back."""

    def __init__(self, db: Database, readonly: bool = False) -> None:
        self.db = db
        self.session: Session = db.sessions()
        self._committed = False
        # engine/db/driver.py keeps the transaction it last ran in with its connections (compared by identity).
        self.driver_connection: tuple[Any, Any, Any] | None = None
        if readonly:
            self.session.connection(execution_options={READONLY: True})

    @property
    def is_postgres(self) -> bool:
        return self.db.is_postgres

    def commit(self) -> None:
        self.session.commit()
        self._committed = True

    def rollback(self) -> None:
        self.session.rollback()


@contextmanager
def unit_of_work(db: Database, readonly: bool = False) -> Iterator[UnitOfWork]:
    """readonly: a read-only transaction (on SQLite it does not queue behind writers)."""
    uow = UnitOfWork(db, readonly)
    try:
        yield uow
    except IntegrityError as exc:
        # What services check first (a user that exists, a key in use) a concurrent request can still create
        # between the check and the write; the database's constraint then refuses it. That is the caller's
        # conflict, said as one (nothing of the transaction was kept), not a fault of the server.
        raise write_conflict(exc) from exc
    finally:
        # close() ends the transaction (rolling back anything uncommitted) and detaches objects with their
        # loaded values intact, so read-only results stay usable after the block.
        uow.session.close()


def write_conflict(exc: IntegrityError) -> WriteConflict:
    reason = str(exc.orig).splitlines()[0][:200]
    duplicate = "unique" in reason.lower() or "duplicate" in reason.lower()
    what = ("it duplicates something saved at the same time" if duplicate
            else "what it refers to was changed or removed meanwhile")
    return WriteConflict(f"the change was refused because {what}; nothing was changed: reload and try again",
                         reason=reason)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched: Session.execute answers it a CursorResult, typed as any Result."""
    assert isinstance(result, CursorResult)
    return result.rowcount
