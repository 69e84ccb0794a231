"""Which records are a person's own: those they are a party to (started, or named as requester or reporter) and
every record of the same case (the records linked by origin keys, both ways), from the policy module's
record_party and case keys. Opening one is the policy's rule (instances.find)."""

from __future__ import annotations

from sqlalchemy import select

from engine.db.database import UnitOfWork
from engine.db.models import ProcessInstance, RecordParty
from engine.services import instances
from engine.services.actors import Actor

MAX_OWN = 500


def own_records(uow: UnitOfWork, actor: Actor) -> list[ProcessInstance]:
    cases = select(RecordParty.case_key).where(RecordParty.username == actor.username)
    stmt = (select(ProcessInstance).where(ProcessInstance.case_key.in_(cases))
            .order_by(ProcessInstance.id.desc()).limit(MAX_OWN))
    return list(uow.session.execute(stmt).scalars())


def find(uow: UnitOfWork, actor: Actor, ref: str | int) -> ProcessInstance:
    return instances.find(uow, actor, ref)
