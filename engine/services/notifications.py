"""A person's notifications in the app, their choices per kind, and the organisation's templates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from engine import clock
from engine.db.database import Database, UnitOfWork, rowcount, unit_of_work
from engine.db.models_desk import Notification, NotificationPreference, NotificationTemplate
from engine.errors import BadRequest
from engine.services import audit, policy
from engine.services.actors import Actor
from engine.services.audit import NewEvent
from engine.services.notify import preference
from engine.services.notify_kinds import KINDS


def note_view(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "kind": n.kind, "business_key": n.business_key, "subject": n.subject, "body": n.body,
            "link": n.link, "created_at": n.created_at.isoformat(),
            "read_at": n.read_at.isoformat() if n.read_at else None}


def unread_count(uow: UnitOfWork, actor: Actor) -> int:
    stmt = select(func.count()).select_from(Notification).where(Notification.username == actor.username,
                                                               Notification.read_at.is_(None))
    return uow.session.execute(stmt).scalar_one()


def listing(uow: UnitOfWork, actor: Actor, unread_only: bool = False, limit: int = 50,
            before: int | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """Newest first, `limit` at a time; the cursor is the last id shown."""
    stmt = select(Notification).where(Notification.username == actor.username).order_by(Notification.id.desc())
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    if before:
        stmt = stmt.where(Notification.id < before)
    rows = list(uow.session.execute(stmt.limit(limit + 1)).scalars())
    return [note_view(n) for n in rows[:limit]], (rows[limit - 1].id if len(rows) > limit else None)


def mark_read(db: Database, actor: Actor, ids: list[int] | None) -> int:
    """Marks the given notifications (all when None) of this person read; returns how many changed."""
    if ids is not None and not all(isinstance(i, int) for i in ids):
        raise BadRequest("ids must be a list of numbers", fields={"ids": "must be numbers"})
    with unit_of_work(db) as uow:
        stmt = update(Notification).where(Notification.username == actor.username, Notification.read_at.is_(None))
        if ids is not None:
            stmt = stmt.where(Notification.id.in_(ids))
        changed = rowcount(uow.session.execute(stmt.values(read_at=clock.now())))
        uow.commit()
        return changed


def preferences(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    result = []
    for kind in KINDS.values():
        in_app, email = preference(uow, actor.username, kind.name)
        result.append({"kind": kind.name, "title": kind.title, "in_app": in_app, "email": email})
    return result


def set_preferences(db: Database, actor: Actor, choices: Any) -> list[dict[str, Any]]:
    """choices: {kind: {"in_app": bool, "email": bool}}; kinds not named keep their setting."""
    if not isinstance(choices, dict):
        raise BadRequest("preferences must be an object of kinds", fields={"preferences": "must be an object"})
    with unit_of_work(db) as uow:
        for kind, choice in choices.items():
            if kind not in KINDS:
                raise BadRequest(f"unknown notification kind {kind}", fields={kind: "is not a kind"})
            if not isinstance(choice, dict) or any(not isinstance(choice.get(ch, True), bool)
                                                   for ch in ("in_app", "email")):
                raise BadRequest(f"{kind} needs in_app and email as true or false", fields={kind: "must be booleans"})
            row = uow.session.get(NotificationPreference, (actor.username, kind))
            if row is None:
                row = NotificationPreference(username=actor.username, kind=kind, in_app=True, email=True)
                uow.session.add(row)
            row.in_app = choice.get("in_app", row.in_app)
            row.email = choice.get("email", row.email)
        uow.commit()
        return preferences(uow, actor)


def templates(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    policy.require(actor, "notification_templates")
    result = []
    for kind in KINDS.values():
        row = uow.session.get(NotificationTemplate, kind.name)
        result.append({"kind": kind.name, "title": kind.title, "placeholders": list(kind.placeholders),
                       "subject": row.subject if row else kind.subject, "body": row.body if row else kind.body,
                       "customised": row is not None, "default_subject": kind.subject, "default_body": kind.body})
    return result


def set_template(db: Database, actor: Actor, kind: str, subject: Any, body: Any) -> dict[str, Any]:
    """An organisation's wording of a kind; empty subject and body restore the shipped default. Audited."""
    policy.require(actor, "notification_templates")
    if kind not in KINDS:
        raise BadRequest(f"unknown notification kind {kind}")
    subject = subject.strip() if isinstance(subject, str) else ""
    body = body.strip() if isinstance(body, str) else ""
    with unit_of_work(db) as uow:
        row = uow.session.get(NotificationTemplate, kind)
        if not subject and not body:
            if row is not None:
                uow.session.delete(row)
        else:
            problems = {}
            if not subject:
                problems["subject"] = "is required"
            if not body:
                problems["body"] = "is required"
            if len(subject) > 250:
                problems["subject"] = "is longer than 250 characters"
            if problems:
                raise BadRequest("a template needs a subject and a body", fields=problems)
            if row is None:
                row = NotificationTemplate(kind=kind, subject=subject, body=body, updated_by=actor.username,
                                           updated_at=clock.now())
                uow.session.add(row)
            row.subject, row.body, row.updated_by, row.updated_at = subject, body, actor.username, clock.now()
        audit.append(uow, [NewEvent("notification.template_changed", actor.username, data={
            "kind": kind, "subject": subject, "body": body, "reset": not subject and not body})])
        uow.commit()
        return next(t for t in templates(uow, actor) if t["kind"] == kind)


def set_email(db: Database, username: str, address: str | None, by: str = "cli") -> str | None:
    """A person's own e-mail address (None or "" clears it: then <name>@ITSMFLOW_MAIL_DOMAIN, if set). Audited."""
    from engine.db.models import User
    from engine.errors import NotFound

    value = (address or "").strip().lower() or None
    if value is not None and (len(value) > 320 or "@" not in value or " " in value):
        raise BadRequest("not an e-mail address", fields={"email": "must look like name@example.org"})
    with unit_of_work(db) as uow:
        user = uow.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            raise NotFound(f"no user {username}")
        user.email = value
        audit.append(uow, [NewEvent("user.email_changed", by, data={"username": username, "email": value})])
        uow.commit()
    return value
