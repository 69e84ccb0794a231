"""Per-person tokens for the change calendar's iCalendar feed.

Calendar clients subscribe to a URL and send neither a session cookie nor a bearer header, so the feed takes a
token in its query (`calendar.ics?token=`). Such a URL ends up in calendar apps and their sync logs, so the token
is weaker than an API token by design: it reads the feed and nothing else, it is kept only as its SHA-256, each
person has at most one (making a new one revokes the old), and the feed shows what the person may see with the
roles they hold when it is fetched (a person who loses the staff roles, or is deactivated, gets nothing). Making
and revoking one are audit events (calendar_feed.token_created, calendar_feed.token_revoked), never the token."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import select, update

from engine import clock
from engine.db.cmdb import CalendarFeedToken
from engine.db.database import Database, UnitOfWork, rowcount, unit_of_work
from engine.db.models import User, UserRole
from engine.errors import NotFound, Unauthenticated
from engine.services import audit, policy
from engine.services.actors import Actor
from engine.services.audit import NewEvent


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user_id(uow: UnitOfWork, username: str) -> int:
    found = uow.session.execute(select(User.id).where(User.username == username)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no user {username}")
    return found


def _active(uow: UnitOfWork, user_id: int) -> CalendarFeedToken | None:
    stmt = select(CalendarFeedToken).where(CalendarFeedToken.user_id == user_id,
                                           CalendarFeedToken.revoked_at.is_(None))
    return uow.session.execute(stmt.order_by(CalendarFeedToken.id.desc()).limit(1)).scalar_one_or_none()


def status(db: Database, actor: Actor) -> dict[str, Any]:
    """Whether the actor has a feed token, and since when (the token itself is never shown again)."""
    with unit_of_work(db, readonly=True) as uow:
        row = _active(uow, _user_id(uow, actor.username))
        return {"active": row is not None, "created_at": row.created_at.isoformat() if row else None}


def _revoke_all(uow: UnitOfWork, user_id: int) -> int:
    result = uow.session.execute(update(CalendarFeedToken).where(
        CalendarFeedToken.user_id == user_id, CalendarFeedToken.revoked_at.is_(None)).values(revoked_at=clock.now()))
    return rowcount(result)


def create(db: Database, actor: Actor) -> dict[str, Any]:
    """A new feed token for the actor (their old one stops working); returned once, only its hash is kept."""
    policy.require(actor, "change_calendar")
    token = secrets.token_urlsafe(32)
    with unit_of_work(db) as uow:
        user_id = _user_id(uow, actor.username)
        replaced = _revoke_all(uow, user_id)
        row = CalendarFeedToken(user_id=user_id, token_hash=_digest(token), created_at=clock.now())
        uow.session.add(row)
        uow.session.flush()
        audit.append(uow, [NewEvent("calendar_feed.token_created", actor.username,
                                    data={"user": actor.username, "token_id": row.id, "replaced": replaced})])
        uow.commit()
        return {"token": token, "active": True, "created_at": row.created_at.isoformat()}


def revoke(db: Database, actor: Actor) -> bool:
    """Revokes the actor's feed token; False when they had none (nothing is audited then)."""
    with unit_of_work(db) as uow:
        user_id = _user_id(uow, actor.username)
        if not _revoke_all(uow, user_id):
            return False
        audit.append(uow, [NewEvent("calendar_feed.token_revoked", actor.username, data={"user": actor.username})])
        uow.commit()
        return True


def actor_for(db: Database, token: str) -> Actor:
    """The person a feed token belongs to, with the roles they hold now. Unauthenticated for an unknown or
    revoked token, or a deactivated person."""
    with unit_of_work(db, readonly=True) as uow:
        stmt = (select(User.username, UserRole.role)
                .join(CalendarFeedToken, CalendarFeedToken.user_id == User.id)
                .outerjoin(UserRole, UserRole.user_id == User.id)
                .where(CalendarFeedToken.token_hash == _digest(token), CalendarFeedToken.revoked_at.is_(None),
                       User.active.is_(True)))
        rows = uow.session.execute(stmt).all()
    if not rows:
        raise Unauthenticated("unknown or revoked feed token")
    return Actor(rows[0].username, frozenset(r.role for r in rows if r.role))
