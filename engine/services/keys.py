"""Business keys: a prefix the process declares (engine/diagram/declarations.py) and six digits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.db.database import UnitOfWork
from engine.db.driver import Prepared
from engine.db.models import Sequence


def _upsert(insert: Any) -> Any:
    table = Sequence.__table__
    return (insert(table).values(prefix=bindparam("p"), last=1)
            .on_conflict_do_update(index_elements=[table.c.prefix], set_={"last": table.c.last + 1})
            .returning(table.c.last))


# Prepared once per dialect, run on the driver's cursor (every start takes a key): the statement costs less
# than building and running it through SQLAlchemy would.
_NEXT = {"postgresql": Prepared(_upsert(pg_insert)), "sqlite": Prepared(_upsert(sqlite_insert))}


def next_key(uow: UnitOfWork, prefix: str) -> str:
    """One atomic upsert: two first starts of a prefix at once must not both insert the counter row."""
    last = _NEXT["postgresql" if uow.is_postgres else "sqlite"].scalar(uow, {"p": prefix})
    return f"{prefix}-{last:06d}"
