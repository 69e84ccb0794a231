"""Shared fixtures: a real database per test (SQLite file, and PostgreSQL when reachable), the bundled
processes deployed, and actors for the demo roles."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.db.database import Database
from engine.db.migrate import upgrade
from engine.services.actors import Actor
from tests.mail_support import smtp  # noqa: F401 - a real SMTP server for the mail tests

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
PG_URL = os.environ.get("ITSMFLOW_TEST_POSTGRES_URL", "")

ALICE = Actor("alice", frozenset({"service_desk", "requester"}))
BOB = Actor("bob", frozenset({"resolver", "requester"}))
CAROL = Actor("carol", frozenset({"change_manager", "requester"}))
CORA = Actor("cora", frozenset({"change_manager", "requester"}))  # a second change manager
DAVE = Actor("dave", frozenset({"cab", "requester"}))
ERIN = Actor("erin", frozenset({"implementer", "requester"}))
FRANK = Actor("frank", frozenset({"release_manager", "requester"}))
GRACE = Actor("grace", frozenset({"process_owner", "requester"}))
HEIDI = Actor("heidi", frozenset({"auditor", "requester"}))
IVAN = Actor("ivan", frozenset({"requester"}))
SAM = Actor("sam", frozenset({"executive_sponsor", "requester"}))
ADMIN = Actor("admin", frozenset({"admin", "requester"}))


def _pg_available() -> bool:
    if not PG_URL:
        return False
    try:
        eng = create_engine(_sa_url(PG_URL))
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def _sa_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgresql://") else url


PG_OK = _pg_available()


def pytest_report_header(config: pytest.Config) -> str:
    if PG_OK:
        return f"PostgreSQL tests: ON ({PG_URL})"
    return "PostgreSQL tests: NOT RUN — set ITSMFLOW_TEST_POSTGRES_URL to a reachable database"


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    if not PG_OK:
        terminalreporter.write_sep("!", "PostgreSQL tests were NOT RUN (no reachable ITSMFLOW_TEST_POSTGRES_URL)",
                                   red=True)


@pytest.fixture(autouse=True, scope="session")
def _checkpoint_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Audit checkpoints of the test databases go to a temporary file, not the install's instance/ folder."""
    path = tmp_path_factory.mktemp("audit") / "checkpoints.log"
    previous = os.environ.get("ITSMFLOW_AUDIT_CHECKPOINT_FILE")
    os.environ["ITSMFLOW_AUDIT_CHECKPOINT_FILE"] = str(path)
    yield
    if previous is None:
        os.environ.pop("ITSMFLOW_AUDIT_CHECKPOINT_FILE", None)
    else:
        os.environ["ITSMFLOW_AUDIT_CHECKPOINT_FILE"] = previous


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _pg_database() -> Iterator[Database]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_sa_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = _sa_url(PG_URL)
    opts = {"connect_args": {"options": f"-csearch_path={schema}"}}
    eng = create_engine(url, **opts)
    with eng.begin() as conn:
        from alembic import command

        from engine.db.migrate import alembic_config

        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    eng.dispose()
    db = Database(url, **opts)
    db.schema = schema  # type: ignore[attr-defined]
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated database: every integration test runs on SQLite and again on PostgreSQL."""
    if request.param == "postgres":
        if not PG_OK:
            pytest.skip("PostgreSQL not reachable (ITSMFLOW_TEST_POSTGRES_URL)")
        yield from _pg_database()
        return
    path = tmp_path / "itsmflow.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "itsmflow.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def pg_db() -> Iterator[Database]:
    if not PG_OK:
        pytest.skip("PostgreSQL not reachable (ITSMFLOW_TEST_POSTGRES_URL)")
    yield from _pg_database()
