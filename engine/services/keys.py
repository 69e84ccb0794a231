"""Business keys: INC-/REQ-/PRB- for response records by kind, RFC-, REL-, IMP-, six digits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

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
    stmt = select(Sequence).where(Sequence.prefix == prefix)
    if uow.is_postgres:
        stmt = stmt.with_for_update()
    row = uow.session.execute(stmt).scalar_one_or_none()
    if row is None:
        row = Sequence(prefix=prefix, last=0)
        uow.session.add(row)
    row.last += 1
    uow.session.flush()
    return f"{prefix}-{row.last:06d}"
