"""Business keys: INC-/REQ-/PRB- for response records by kind, RFC-, REL-, IMP-, six digits."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.db.database import UnitOfWork
from engine.db.models import Sequence

PROCESS_PREFIX = {"change": "RFC", "release": "REL", "improvement": "IMP", "triage": "TRI"}
RESPONSE_PREFIX = {"incident": "INC", "entitlement": "REQ", "information": "REQ", "problem": "PRB"}


def prefix_for(process_key: str, data: dict[str, Any], declared: str | None = None) -> str:
    if declared:
        return declared
    if process_key == "response":
        kind = data.get("record_type") or data.get("query_type")
        return RESPONSE_PREFIX.get(str(kind), "INC")
    return PROCESS_PREFIX.get(process_key, process_key[:3].upper() or "REC")


def next_key(uow: UnitOfWork, prefix: str) -> str:
    """One atomic upsert: two first starts of a prefix at once must not both insert the counter row."""
    insert = pg_insert if uow.is_postgres else sqlite_insert
    stmt = (insert(Sequence).values(prefix=prefix, last=1)
            .on_conflict_do_update(index_elements=[Sequence.prefix], set_={"last": Sequence.last + 1})
            .returning(Sequence.last))
    last = uow.session.execute(stmt).scalar_one()
    return f"{prefix}-{last:06d}"
