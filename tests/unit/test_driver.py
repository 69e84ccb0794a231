"""engine.db.driver: a prepared statement reads and writes what the ORM would, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, column, delete, insert, select, table, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from engine.db.database import Database, unit_of_work
from engine.db.driver import Prepared
from engine.db.models import Sequence, User, table_of
from engine.errors import WriteConflict

USERS = table_of(User)
_INSERT = insert(USERS).values({k: bindparam(k) for k in (
    "username", "display_name", "email", "password_hash", "active", "created_at")})
_BY_NAME = select(USERS.c.username, USERS.c.active, USERS.c.created_at).where(USERS.c.username == bindparam("u"))
_ACTIVE_SINCE = (select(USERS.c.username).where(USERS.c.active.is_(True), USERS.c.created_at >= bindparam("t"))
                 .order_by(USERS.c.username))
_DEACTIVATE = update(USERS).where(USERS.c.username == bindparam("u")).values(active=False)
_LITERAL = select(USERS.c.username).where(USERS.c.username == "zed")  # a value fixed when the statement is built


def _user(name: str, at: datetime) -> dict[str, object]:
    return {"username": name, "display_name": name.title(), "email": None, "password_hash": "x", "active": True,
            "created_at": at}


def test_values_round_trip_as_the_orm_reads_them(db: Database) -> None:
    at = datetime(2026, 12, 2, 1, 2, 3, tzinfo=UTC)  # whole seconds: a driver's own adapter would drop ".000000"
    with unit_of_work(db) as uow:
        _INSERT_P.execute_many(uow, [_user("zed", at), _user("amy", at + timedelta(hours=1))])
        uow.commit()
    with unit_of_work(db) as uow:
        assert _BY_NAME_P.one_or_none(uow, {"u": "zed"}) == ("zed", True, at)
        assert _BY_NAME_P.one_or_none(uow, {"u": "nobody"}) is None
        assert _ACTIVE_SINCE_P.rows(uow, {"t": at + timedelta(minutes=1)}) == [("amy",)]
        assert _LITERAL_P.scalar(uow) == "zed"
        orm = uow.session.execute(select(User).where(User.username == "zed")).scalar_one()
        assert (orm.active, orm.created_at) == (True, at)
        assert _BY_NAME_P.mappings(uow, {"u": "amy"}) == [
            {"username": "amy", "active": True, "created_at": at + timedelta(hours=1)}]


def test_writes_count_rows_and_join_the_transaction(db: Database) -> None:
    at = datetime(2026, 12, 2, tzinfo=UTC)
    with unit_of_work(db) as uow:
        _INSERT_P.execute_many(uow, [_user("zed", at)])
        uow.commit()
    with unit_of_work(db) as uow:
        assert _DEACTIVATE_P.execute(uow, {"u": "zed"}) == 1
        assert _DEACTIVATE_P.execute(uow, {"u": "nobody"}) == 0
        # not committed: leaving the block rolls the driver-level write back with the rest
    with unit_of_work(db) as uow:
        assert _BY_NAME_P.one_or_none(uow, {"u": "zed"}) == ("zed", True, at)


def test_what_the_orm_holds_unwritten_is_flushed_first(db: Database) -> None:
    with unit_of_work(db) as uow:
        uow.session.add(Sequence(prefix="TST", last=7))
        assert Prepared(select(table_of(Sequence).c.last).where(
            table_of(Sequence).c.prefix == "TST")).scalar(uow) == 7


def test_a_value_shared_by_every_row_is_written_as_each_rows_own(db: Database) -> None:
    at = datetime(2026, 12, 2, 3, 4, 5, tzinfo=UTC)
    rows = [{k: v for k, v in _user(name, at).items() if k != "created_at"} for name in ("zed", "amy")]
    with unit_of_work(db) as uow:
        _INSERT_P.execute_many(uow, rows, shared={"created_at": at})
        uow.commit()
    with unit_of_work(db) as uow:
        assert _ACTIVE_SINCE_P.rows(uow, {"t": at}) == [("amy",), ("zed",)]
        orm = uow.session.execute(select(User.username, User.created_at).order_by(User.username)).all()
        assert [tuple(r) for r in orm] == [("amy", at), ("zed", at)]
    with unit_of_work(db) as uow:  # one row alone runs as a single execute, the shared value with it
        _INSERT_P.execute_many(uow, [{k: v for k, v in _user("bo", at).items() if k != "created_at"}],
                               shared={"created_at": at})
        assert _BY_NAME_P.one_or_none(uow, {"u": "bo"}) == ("bo", True, at)


def test_a_statement_whose_sql_would_vary_is_refused(db: Database) -> None:
    stmt = delete(USERS).where(USERS.c.username.in_(bindparam("names", expanding=True)))
    with unit_of_work(db) as uow, pytest.raises(ValueError, match="expanding"):
        Prepared(stmt).execute(uow, {"names": ["a"]})


def test_driver_errors_are_raised_as_sqlalchemy_raises_them(db: Database) -> None:
    """What callers catch stays the same: a refused write is a write conflict, a statement the database cannot run
    a DBAPIError (the API answers 503), on either dialect."""
    at = datetime(2026, 12, 2, tzinfo=UTC)
    with unit_of_work(db) as uow:
        _INSERT_P.execute(uow, _user("zed", at))
        uow.commit()
    with pytest.raises(WriteConflict), unit_of_work(db) as uow:
        _INSERT_P.execute(uow, _user("zed", at))
    with unit_of_work(db) as uow, pytest.raises(IntegrityError):
        _INSERT_P.execute_many(uow, [_user("amy", at), _user("zed", at)])
    with unit_of_work(db) as uow, pytest.raises(DBAPIError):
        Prepared(select(column("x")).select_from(table("no_such_table", column("x")))).rows(uow)
    with unit_of_work(db) as uow:  # the connection is still good for the next transaction
        assert _BY_NAME_P.one_or_none(uow, {"u": "zed"}) == ("zed", True, at)


_INSERT_P, _BY_NAME_P, _ACTIVE_SINCE_P = Prepared(_INSERT), Prepared(_BY_NAME), Prepared(_ACTIVE_SINCE)
_DEACTIVATE_P, _LITERAL_P = Prepared(_DEACTIVATE), Prepared(_LITERAL)
