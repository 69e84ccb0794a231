"""What the conversation and notification views read (comments, attachments, a person's notifications, their
choices, the templates), as plain data: one unit of work each, so no session or ORM row reaches web/."""

from __future__ import annotations

from typing import Any

from engine.db.database import Database, unit_of_work
from engine.services import conversation, instances, notifications, readable
from engine.services.actors import Actor


def comments(db: Database, actor: Actor, ref: str) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return conversation.comments(uow, actor, instances.find(uow, actor, ref))


def attachments(db: Database, actor: Actor, ref: str) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return conversation.attachments(uow, actor, instances.find(uow, actor, ref))


def download(db: Database, actor: Actor, ref: str, attachment_id: int) -> tuple[dict[str, Any], bytes]:
    """The attachment's metadata and content."""
    with unit_of_work(db, readonly=True) as uow:
        return conversation.download(uow, actor, ref, attachment_id)


def notes(db: Database, actor: Actor, unread_only: bool, limit: int,
          before: int | None) -> tuple[list[dict[str, Any]], int | None, int]:
    """A page of the person's notifications, the cursor of the next and how many are unread, read together."""
    with unit_of_work(db, readonly=True) as uow:
        rows, next_cursor = notifications.listing(uow, actor, unread_only, limit, before)
        return rows, next_cursor, notifications.unread_count(uow, actor)


def unread_count(db: Database, actor: Actor) -> int:
    with unit_of_work(db, readonly=True) as uow:
        return notifications.unread_count(uow, actor)


def preferences(db: Database, actor: Actor) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return notifications.preferences(uow, actor)


def templates(db: Database, actor: Actor) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return notifications.templates(uow, actor)


def labels(db: Database, process: str, version: int) -> dict[str, dict[str, Any]]:
    """The form labels of a process version, for pages that show its data."""
    with unit_of_work(db, readonly=True) as uow:
        return readable.for_process(uow, process, version)
