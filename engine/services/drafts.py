"""Drafts: an owner's edited diagram kept on the server without deploying it. One per process and author (a save
replaces it); listed per process; deploying from a draft removes it."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import ProcessDraft
from engine.errors import NotAllowed, NotFound
from engine.services import deploy, lint, policy
from engine.services.actors import Actor


def _owner(actor: Actor) -> None:
    policy.require(actor, "deploy")


def view(row: ProcessDraft) -> dict[str, Any]:
    return {"id": row.id, "key": row.key, "author": row.author, "base_version": row.base_version,
            "note": row.note, "created_at": row.created_at.isoformat(), "saved_at": row.saved_at.isoformat()}


def save(db: Database, actor: Actor, key: str, bpmn: bytes, base_version: int | None = None,
         lanes: dict[str, str] | None = None, note: str = "") -> dict[str, Any]:
    """Stores (or replaces) the actor's draft of `key`; it must be a safe BPMN document holding process `key`,
    nothing more: a draft may still have problems. Answers the draft with its lint warnings."""
    _owner(actor)
    with unit_of_work(db) as uow:
        warnings = lint.warnings_in(uow, key, bpmn, lanes)  # also refuses unsafe XML and a foreign process id
        if base_version is None:
            latest = deploy.latest(uow, key)
            base_version = latest.version if latest is not None else None
        row = uow.session.execute(select(ProcessDraft).where(ProcessDraft.key == key,
                                                             ProcessDraft.author == actor.username)
                                  ).scalar_one_or_none()
        now = clock.now()
        if row is None:
            row = ProcessDraft(key=key, author=actor.username, created_at=now)
            uow.session.add(row)
        row.bpmn_xml, row.lanes_json, row.base_version = bpmn.decode("utf-8"), json.dumps(lanes or {}), base_version
        row.note, row.saved_at = note, now
        uow.session.flush()
        result = {**view(row), "warnings": warnings}
        uow.commit()
    return result


def list_drafts(db: Database, actor: Actor, key: str | None = None) -> list[dict[str, Any]]:
    _owner(actor)
    stmt = select(ProcessDraft).order_by(ProcessDraft.key, ProcessDraft.saved_at.desc())
    if key is not None:
        stmt = stmt.where(ProcessDraft.key == key)
    with unit_of_work(db, readonly=True) as uow:
        return [view(r) for r in uow.session.execute(stmt).scalars()]


def _get(uow: UnitOfWork, key: str, draft_id: int) -> ProcessDraft:
    row = uow.session.get(ProcessDraft, draft_id)
    if row is None or row.key != key:
        raise NotFound(f"no draft {draft_id} of process {key}")
    return row


def get_xml(db: Database, actor: Actor, key: str, draft_id: int) -> str:
    _owner(actor)
    with unit_of_work(db, readonly=True) as uow:
        return _get(uow, key, draft_id).bpmn_xml


def discard(db: Database, actor: Actor, key: str, draft_id: int) -> None:
    """Its author or an administrator removes a draft."""
    _owner(actor)
    with unit_of_work(db) as uow:
        row = _get(uow, key, draft_id)
        if row.author != actor.username and not actor.has("admin"):
            raise NotAllowed(f"the draft belongs to {row.author}")
        uow.session.execute(delete(ProcessDraft).where(ProcessDraft.id == row.id))
        uow.commit()


def deployed(db: Database, actor: Actor, key: str) -> None:
    """After a deploy from the modeller: the author's draft of that process is done."""
    with unit_of_work(db) as uow:
        uow.session.execute(delete(ProcessDraft).where(ProcessDraft.key == key,
                                                       ProcessDraft.author == actor.username))
        uow.commit()
