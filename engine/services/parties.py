"""Who a record is for: its starter and the people its declared requester and reporter fields name, kept in
step with the data after every step (record_party rows), plus the case key that links a record to the records
it came from and those it started."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, insert, select

from engine.db.database import UnitOfWork
from engine.db.driver import Prepared
from engine.db.models import ProcessInstance, RecordParty, table_of
from engine.db.rows import InstanceRow
from engine.diagram.declarations import Declarations

SYSTEM_USERS = ("system", "")
USERNAME_MAX = 80
_PARTIES = table_of(RecordParty)
# On the driver's cursor: a record's parties are written by its first step and whenever they change.
_DROP = Prepared(delete(_PARTIES).where(_PARTIES.c.instance_id == bindparam("instance_id")))
_ADD = Prepared(insert(_PARTIES).values({c: bindparam(c) for c in ("instance_id", "username", "relation", "case_key")}))


def case_key_for(uow: UnitOfWork, business_key: str, origin_key: str | None) -> str:
    """A record started from another joins that one's case; a record with no known origin starts its own."""
    if origin_key:
        found = uow.session.execute(select(ProcessInstance.case_key).where(
            ProcessInstance.business_key == origin_key)).scalar_one_or_none()
        if found:
            return found
    return business_key


def named(decl: Declarations, started_by: str, data: dict[str, Any]) -> set[tuple[str, str]]:
    """(username, relation) pairs: the starter, and each declared party field holding a user name."""
    found = set()
    if started_by not in SYSTEM_USERS:
        found.add((started_by, "starter"))
    for relation, field_name in (("requester", decl.requester_field), ("reporter", decl.reporter_field)):
        value = data.get(field_name) if field_name else None
        if isinstance(value, str) and value.strip() and len(value.strip()) <= USERNAME_MAX:
            found.add((value.strip(), relation))
    return found


def sync(uow: UnitOfWork, inst: InstanceRow, decl: Declarations, before: dict[str, Any] | None,
         data: dict[str, Any]) -> None:
    """After a step: rewrites the record's parties when the fields naming them changed (most steps do not).
    before: the record's data before the step ({} for a record this step inserts: no rows yet); None when the
    rows may not match it (a migration to a version naming other party fields): they are rewritten."""
    now = named(decl, inst.started_by, data)
    if before and named(decl, inst.started_by, before) == now:
        return
    if before != {}:
        _DROP.execute(uow, {"instance_id": inst.id})
    _ADD.execute_many(uow, [{"instance_id": inst.id, "username": username, "relation": relation,
                             "case_key": inst.case_key or inst.business_key} for username, relation in sorted(now)])


def requesters(uow: UnitOfWork, instance_id: int) -> set[str]:
    """Everyone the record is for (starter, requester, reporter): whom separation of duties keeps from
    approving it."""
    stmt = select(RecordParty.username).where(RecordParty.instance_id == instance_id)
    return set(uow.session.execute(stmt).scalars())
