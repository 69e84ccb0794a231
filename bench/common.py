"""Shared by the benchmark scripts: databases to seed and drop, timing statistics, the result rows.

Benchmarks are scripts run by hand (``make bench``), never tests. Each one prints its method, its rounds with
median and spread, and ends with result rows (figure, value, target, met?) that ``bench/run_all.py`` collects.
"""

from __future__ import annotations

import atexit
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The audit trail copies its checkpoints to a file outside the database (instance/ by default): benchmark runs
# write theirs to a temporary file instead (the cost is still paid), removed when the run ends. Child processes
# (run_all's benchmarks, B4's gunicorn) inherit the setting.
CHECKPOINT_ENV = "ITSMFLOW_AUDIT_CHECKPOINT_FILE"
if CHECKPOINT_ENV not in os.environ:
    _checkpoints = Path(tempfile.gettempdir()) / f"itsmflow-bench-checkpoints-{os.getpid()}.log"
    os.environ[CHECKPOINT_ENV] = str(_checkpoints)
    atexit.register(lambda: _checkpoints.unlink(missing_ok=True))

from sqlalchemy import create_engine, text  # noqa: E402 - after the sys.path line

from engine.db.database import Database  # noqa: E402
from engine.db.migrate import alembic_config, upgrade  # noqa: E402
from engine.services.actors import Actor  # noqa: E402

BENCH = ROOT / "bench"
PROCESSES = ROOT / "processes"
PG_URL = os.environ.get("ITSMFLOW_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
RESULT_PREFIX = "BENCH-RESULT "

OWNER = Actor("grace", frozenset({"process_owner", "requester"}))
ALICE = Actor("alice", frozenset({"service_desk", "requester"}))
BOB = Actor("bob", frozenset({"resolver", "requester"}))


# --- results ---------------------------------------------------------------------------------------------
@dataclass
class Row:
    """One line of the summary table; `met` is None when the figure has no target (shown for comparison)."""

    key: str
    figure: str
    value: str
    target: str
    met: bool | None

    @property
    def verdict(self) -> str:
        return "-" if self.met is None else ("yes" if self.met else "NO")


def emit(rows: Sequence[Row]) -> None:
    """Prints the rows for a person, then one machine-readable line for run_all.py."""
    print()
    print_table(rows)
    print(RESULT_PREFIX + json.dumps([asdict(r) for r in rows]))


def print_table(rows: Sequence[Row]) -> None:
    header = ("figure", "value", "target", "met?")
    cells = [header] + [(r.figure, r.value, r.target, r.verdict) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    for n, c in enumerate(cells):
        print("  " + " | ".join(c[i].ljust(widths[i]) for i in range(4)))
        if n == 0:
            print("  " + "-+-".join("-" * w for w in widths))


def parse_rows(output: str) -> list[Row]:
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            return [Row(**r) for r in json.loads(line[len(RESULT_PREFIX):])]
    return []


# --- statistics ------------------------------------------------------------------------------------------
def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def spread(values: Sequence[float], unit: str, digits: int = 1) -> str:
    """'median X unit (min .. max, n rounds)'."""
    med = statistics.median(values)
    return (f"median {med:.{digits}f} {unit} (min {min(values):.{digits}f}, max {max(values):.{digits}f}, "
            f"{len(values)} rounds)")


# --- statements and round trips ---------------------------------------------------------------------------
class StatementCounter:
    """Counts what an engine sends: statements (every cursor execute, BEGIN included, an executemany counted
    once) and round trips (statements plus COMMIT/ROLLBACK, each one call to the driver and, on PostgreSQL, one
    exchange with the server). SQLAlchemy's events see what goes through SQLAlchemy; statements run on the
    driver's own cursor (engine/db/driver.py) are counted where they start."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        from engine.db import driver

        self.statements = 0
        self.ends = 0
        self.texts: list[str] = []
        self.keep_texts = False
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)
        for name in ("_run", "execute_many"):
            original = getattr(driver.Prepared, name)

            def counted(prepared: Any, *args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
                if _name == "execute_many" and len(args[1]) <= 1:
                    return _original(prepared, *args, **kwargs)  # none, or one row run through _run: counted there
                self.statements += 1
                if self.keep_texts:
                    self.texts.append("driver: " + " ".join(str(prepared.statement).split())[:82])
                return _original(prepared, *args, **kwargs)

            setattr(driver.Prepared, name, counted)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements += 1
        if self.keep_texts:
            self.texts.append(" ".join(statement.split())[:90])

    def _end(self, _conn: Any) -> None:
        self.ends += 1

    def reset(self) -> None:
        self.statements = self.ends = 0
        self.texts = []

    @property
    def round_trips(self) -> int:
        return self.statements + self.ends


# --- databases -------------------------------------------------------------------------------------------
def sa_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgresql://") else url


@contextmanager
def sqlite_database(name: str = "bench") -> Iterator[Database]:
    """A fresh, migrated SQLite file in a temporary folder, deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="itsmflow-bench-") as folder:
        path = Path(folder) / f"{name}.db"
        upgrade(f"sqlite:///{path}")
        db = Database(f"sqlite:///{path}")
        try:
            yield db
        finally:
            db.dispose()


def pg_reachable(url: str = PG_URL) -> tuple[bool, str]:
    try:
        eng = create_engine(sa_url(url), connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
        eng.dispose()
        return True, str(version)
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return False, str(exc).splitlines()[0]


@contextmanager
def pg_schema(url: str = PG_URL, **options: Any) -> Iterator[tuple[Database, str, str]]:
    """A fresh PostgreSQL schema, migrated; yields (database, schema, URL with search_path); dropped after."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(sa_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    # psycopg passes `options` and `application_name` from the URL query to libpq, so a separate process
    # (gunicorn) gets the schema from ITSMFLOW_DATABASE_URL alone, and its sessions can be told apart.
    schema_url = f"{sa_url(url)}?options=-csearch_path%3D{schema}&application_name={schema}"
    try:
        eng = create_engine(schema_url)
        with eng.begin() as conn:
            from alembic import command

            cfg = alembic_config(schema_url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        eng.dispose()
        db = Database(schema_url, **options)
        try:
            yield db, schema, schema_url
        finally:
            db.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


# --- the machine -----------------------------------------------------------------------------------------
def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ok, pg = pg_reachable()
    return {
        "cpu": cpu, "cores": str(os.cpu_count()), "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "postgresql": pg if ok else "unreachable",
    }
