"""Business keys: a prefix the process declares (engine/diagram/declarations.py) and six digits."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.db.database import UnitOfWork
from engine.db.models import Sequence


def next_key(uow: UnitOfWork, prefix: str) -> str:
    """One atomic upsert: two first starts of a prefix at once must not both insert the counter row."""
    insert = pg_insert if uow.is_postgres else sqlite_insert
    stmt = (insert(Sequence).values(prefix=prefix, last=1)
            .on_conflict_do_update(index_elements=[Sequence.prefix], set_={"last": Sequence.last + 1})
            .returning(Sequence.last))
    last = uow.session.execute(stmt).scalar_one()
    return f"{prefix}-{last:06d}"
