"""The people a form may name: the directory of active accounts, offered where a process's party fields (its
declared requester and reporter) are filled in, and listed by the API for integrations. Staff only (policy):
requesters see no one else's account. What is offered is a convenience; the server still checks the name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import ProcessInstance, User
from engine.diagram import declarations
from engine.errors import NotAllowed
from engine.services import deploy, policy, specs
from engine.services.actors import Actor

# Beyond this many accounts a select is no help: the fields stay typed (and checked on submit).
MAX_OFFERED = 1000


def _label(username: str, display_name: str) -> str:
    return f"{display_name} ({username})" if display_name and display_name != username else username


def directory(db: Database, actor: Actor, query: str = "", limit: int = 50) -> list[dict[str, str]]:
    """Active accounts whose user name or display name contains `query`, by user name."""
    if not policy.may_list_people(actor):
        raise NotAllowed("only staff may list the accounts")
    stmt = select(User.username, User.display_name).where(User.active.is_(True))
    if query.strip():
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(User.username).like(like), func.lower(User.display_name).like(like)))
    with unit_of_work(db, readonly=True) as uow:
        rows = uow.session.execute(stmt.order_by(User.username).limit(limit)).all()
    return [{"username": u, "display_name": d or u} for u, d in rows]


def _pickers(uow: UnitOfWork, actor: Actor, version_id: int | None) -> dict[str, list[dict[str, Any]]]:
    if version_id is None or not policy.may_list_people(actor):
        return {}
    fields = declarations.read(specs.loaded(uow, version_id).meta).party_fields
    rows = uow.session.execute(select(User.username, User.display_name).where(User.active.is_(True))
                               .order_by(User.username).limit(MAX_OFFERED + 1)).all()
    if not fields or not rows or len(rows) > MAX_OFFERED:
        return {}
    options = [{"id": u, "name": _label(u, d)} for u, d in rows]
    return {f: options for f in fields}


def pickers_for_instance(db: Database, actor: Actor, instance_id: int) -> dict[str, list[dict[str, Any]]]:
    """The party fields of a record's forms, each with the accounts to pick from (none for non-staff)."""
    with unit_of_work(db, readonly=True) as uow:
        inst = uow.session.get(ProcessInstance, instance_id)
        return _pickers(uow, actor, inst.process_version_id if inst is not None else None)


def pickers_for_process(db: Database, actor: Actor, process_key: str | None) -> dict[str, list[dict[str, Any]]]:
    """The same for the start form of a process's latest version."""
    with unit_of_work(db, readonly=True) as uow:
        row = deploy.latest(uow, process_key) if process_key else None
        return _pickers(uow, actor, row.id if row is not None else None)
