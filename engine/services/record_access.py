"""Which records a person may open: the general rule (instances.find), and a requester's own records with every
record linked to them (until the policy module's record visibility covers linked records): started by them, or
naming them as requester or reporter, plus the records linked to those by origin keys, both ways, however deep."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select

from engine.db.database import UnitOfWork
from engine.db.models import ProcessInstance
from engine.errors import NotAllowed
from engine.services import instances, notify
from engine.services.actors import Actor

MAX_LINKED = 200


def _named(username: str) -> ColumnElement[bool]:
    like = [ProcessInstance.data_json.like(f'%"{field}": "{username}"%') for field in ("requester", "reporter")]
    return or_(ProcessInstance.started_by == username, *like)


def own_records(uow: UnitOfWork, actor: Actor) -> list[ProcessInstance]:
    """The records the actor raised or is named on (checked on the data, not only the text match), and the
    records linked to them through origin keys, in both directions."""
    found: dict[int, ProcessInstance] = {}
    for inst in uow.session.execute(select(ProcessInstance).where(_named(actor.username))).scalars():
        if actor.username in notify.requesters_of(inst):
            found[inst.id] = inst
    frontier = {i.business_key for i in found.values()} | {i.origin_key for i in found.values() if i.origin_key}
    while frontier and len(found) < MAX_LINKED:
        stmt = select(ProcessInstance).where(or_(ProcessInstance.origin_key.in_(frontier),
                                                 ProcessInstance.business_key.in_(frontier)))
        new = [i for i in uow.session.execute(stmt).scalars() if i.id not in found]
        for inst in new:
            found[inst.id] = inst
        frontier = {i.business_key for i in new} | {i.origin_key for i in new if i.origin_key}
    return sorted(found.values(), key=lambda i: i.id, reverse=True)


def find(uow: UnitOfWork, actor: Actor, ref: str) -> ProcessInstance:
    """A record the actor may see: by the general rule, or because it is one of theirs or linked to one."""
    try:
        return instances.find(uow, actor, ref)
    except NotAllowed:
        for inst in own_records(uow, actor):
            if inst.business_key == str(ref).upper() or str(inst.id) == str(ref):
                return inst
        raise
