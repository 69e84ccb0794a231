"""Statements of the hot path, compiled once per dialect and run on the driver's own cursor.

A step runs a dozen statements. Through the ORM each costs ~70 us of Python on top of the database's own work,
through Core ~30 us, on the driver's cursor ~6 us (bench B1, SQLite, one row by primary key). A `Prepared`
statement is built with SQLAlchemy (so it is written once for SQLite and PostgreSQL and type-checked against
the models), compiled once per dialect, and then executed on the unit of work's own DBAPI connection, inside
the same transaction as everything else. The column types' own conversions (UTC datetimes, booleans) are
applied on the way in and out, so values read or written here are the ones the ORM would give.

Limits, checked when the statement is built: no expanding IN lists (their SQL depends on the values); every
value is a named `bindparam` or a literal fixed at build time.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from engine.db.database import UnitOfWork

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # parameter names in the order the SQL takes them (positional drivers)
    positional: bool
    defaults: dict[str, Any]  # literals fixed when the statement was built
    binds: tuple[tuple[str, Callable[[Any], Any]], ...]  # names whose type converts the value
    results: tuple[Processor, ...]  # one per result column (None: taken as the driver gives it)
    take: Callable[[Mapping[str, Any]], tuple[Any, ...]]  # the values in `names` order (positional drivers)


def _taker(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """itemgetter in C, but always a tuple (itemgetter of one name gives the bare value)."""
    if len(names) > 1:
        return operator.itemgetter(*names)
    return lambda values: tuple(values[n] for n in names)


class Prepared:
    """One statement; `columns` names what a row holds, in order."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        exported = getattr(statement, "exported_columns", None)
        self._result_types = [c.type for c in exported] if exported is not None else []
        self.columns: tuple[str, ...] = tuple(c.key for c in exported) if exported is not None else ()
        self._by_dialect: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is not None:
            return found
        compiled = self.statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        defaults, binds = {}, []
        for name, bind in compiled.binds.items():
            if bind.expanding:
                raise ValueError(f"expanding parameter {name!r}: a prepared statement's SQL must not vary")
            if not bind.required:
                defaults[name] = bind.effective_value
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                binds.append((name, process))
        results = tuple(t.dialect_impl(dialect).result_processor(dialect, None) for t in self._result_types)
        names = tuple(compiled.positiontup or ())
        found = _Compiled(compiled.string, names, bool(compiled.positional), defaults, tuple(binds), results,
                          _taker(names))
        self._by_dialect[dialect.name] = found
        return found

    def _params(self, c: _Compiled, given: Mapping[str, Any] | None,
                converted: Mapping[str, Any] | None = None) -> Any:
        values = {**c.defaults, **given} if given else dict(c.defaults)
        for name, process in c.binds:
            if name in values:
                values[name] = process(values[name])
        if converted:
            values.update(converted)
        return c.take(values) if c.positional else values

    def _run(self, uow: UnitOfWork, params: Mapping[str, Any] | None) -> tuple[Any, _Compiled]:
        connection, driver = _connection(uow)
        c = self._compile(connection.dialect)
        cursor = driver.cursor()
        values = self._params(c, params)
        try:
            cursor.execute(c.sql, values)
        except Exception as exc:  # noqa: BLE001 - a driver error is raised as SQLAlchemy raises it, others as they are
            _raise_as_sqlalchemy(connection, exc, c.sql, values, cursor)
        return cursor, c

    def rows(self, uow: UnitOfWork, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        cursor, c = self._run(uow, params)
        fetched = cursor.fetchall()
        cursor.close()
        if not any(c.results):
            return [tuple(r) for r in fetched]
        return [tuple(v if p is None else p(v) for p, v in zip(c.results, r, strict=True)) for r in fetched]

    def mappings(self, uow: UnitOfWork, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows(uow, params)]

    def one_or_none(self, uow: UnitOfWork, params: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        found = self.rows(uow, params)
        return found[0] if found else None

    def scalar(self, uow: UnitOfWork, params: Mapping[str, Any] | None = None) -> Any:
        row = self.one_or_none(uow, params)
        return None if row is None else row[0]

    def execute(self, uow: UnitOfWork, params: Mapping[str, Any] | None = None) -> int:
        """A statement that returns no rows; the number of rows it matched."""
        cursor, _ = self._run(uow, params)
        count: int = cursor.rowcount
        cursor.close()
        return count

    def execute_many(self, uow: UnitOfWork, params: Sequence[Mapping[str, Any]],
                     shared: Mapping[str, Any] | None = None) -> None:
        """shared: values the same in every row (left out of `params`), converted once for all of them."""
        if not params:
            return
        if len(params) == 1:  # psycopg runs executemany in a pipeline: for one row that is work for nothing
            self.execute(uow, {**shared, **params[0]} if shared else params[0])
            return
        connection, driver = _connection(uow)
        c = self._compile(connection.dialect)
        cursor = driver.cursor()
        converted = None
        if shared:
            converted = dict(shared)
            for name, process in c.binds:
                if name in converted:
                    converted[name] = process(converted[name])
        values = [self._params(c, p, converted) for p in params]
        try:
            cursor.executemany(c.sql, values)
        except Exception as exc:  # noqa: BLE001 - a driver error is raised as SQLAlchemy raises it, others as they are
            _raise_as_sqlalchemy(connection, exc, c.sql, values, cursor)
        cursor.close()


def _connection(uow: UnitOfWork) -> tuple[Connection, Any]:
    """The unit of work's connection and its driver connection, in its current transaction (begun if need be).
    Kept for the transaction: asking the session each time cost more than most statements here."""
    session = uow.session
    if session.new or session.dirty or session.deleted:
        session.flush()  # what the ORM holds unwritten must be in the database before SQL reads it
    transaction = session.get_transaction()
    held = uow.driver_connection
    if transaction is not None and held is not None and held[0] is transaction:
        return held[1], held[2]
    connection = session.connection()
    driver = connection.connection.driver_connection
    uow.driver_connection = (session.get_transaction(), connection, driver)
    return connection, driver


def _raise_as_sqlalchemy(connection: Connection, exc: Exception, sql: str, params: Any, cursor: Any) -> NoReturn:
    """A driver error raised as SQLAlchemy raises it through Core (IntegrityError, OperationalError, ...), a lost
    connection invalidated: what callers catch (unit_of_work's write conflicts, the API's 503) stays the same."""
    dialect = connection.dialect
    base = dialect.loaded_dbapi.Error
    if not isinstance(exc, base):
        raise exc
    gone = dialect.is_disconnect(exc, connection.connection.dbapi_connection, cursor)
    if gone:
        connection.invalidate(exc)
    raise DBAPIError.instance(sql, params, exc, base, connection_invalidated=gone, dialect=dialect) from exc
