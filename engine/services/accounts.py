"""Managing accounts after they exist (administrators): list them, change their roles, deactivate and reactivate
them, reset a password. Every act needs a reason and is an `admin.*` audit event written in the same transaction
as the change. Deactivating (and a password reset) also revokes the person's API tokens and ends their browser
sessions, so whatever they held stops working at the next request. An administrator cannot lock themselves out,
and the last active administrator cannot be deactivated or lose the role."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import ApiToken, Role, User, UserRole
from engine.db.models_auth import LoginSession
from engine.errors import BadRequest, Conflict, NotFound, ValidationFailed
from engine.services import audit, policy, users
from engine.services.actors import Actor
from engine.services.audit import NewEvent

ADMIN = "admin"
REASON_MAX = 500


def _reason(actor: Actor, reason: Any) -> str:
    policy.require(actor, "accounts")
    if not isinstance(reason, str) or not reason.strip():
        raise BadRequest("a reason is required", fields={"reason": "is required"})
    if len(reason) > REASON_MAX:
        raise BadRequest(f"a reason is at most {REASON_MAX} characters", fields={"reason": "is too long"})
    return reason.strip()


def known_roles(db: Database) -> list[dict[str, str]]:
    with unit_of_work(db, readonly=True) as uow:
        rows = uow.session.execute(select(Role.name, Role.description).order_by(Role.name)).all()
    return [{"name": n, "description": d} for n, d in rows]


def _roles(uow: UnitOfWork, user_id: int) -> set[str]:
    return set(uow.session.execute(select(UserRole.role).where(UserRole.user_id == user_id)).scalars())


_UNREAD = object()


def _view(uow: UnitOfWork, user: User, last: Any = _UNREAD) -> dict[str, Any]:
    """last: the latest browser sign-in (None: never) when the caller read it for many accounts at once."""
    if last is _UNREAD:
        last = uow.session.execute(select(func.max(LoginSession.created_at))
                                   .where(LoginSession.username == user.username)).scalar_one_or_none()
    return {"username": user.username, "display_name": user.display_name or user.username, "email": user.email,
            "roles": sorted(_roles(uow, user.id)), "active": user.active,
            "created_at": user.created_at.isoformat(), "last_sign_in": last.isoformat() if last else None}


def listing(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Every account by user name. last_sign_in: the latest browser sign-in (token exchanges are not counted)."""
    policy.require(actor, "accounts")
    with unit_of_work(db, readonly=True) as uow:
        last = {name: when for name, when in uow.session.execute(
            select(LoginSession.username, func.max(LoginSession.created_at)).group_by(LoginSession.username))}
        rows = uow.session.execute(select(User).order_by(User.username)).scalars()
        return [_view(uow, u, last.get(u.username)) for u in rows]


def account(db: Database, actor: Actor, username: str) -> dict[str, Any]:
    policy.require(actor, "accounts")
    with unit_of_work(db, readonly=True) as uow:
        return _view(uow, _user(uow, username, lock=False))


def _user(uow: UnitOfWork, username: str, lock: bool = True) -> User:
    stmt = select(User).where(User.username == username)
    user = uow.session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {username}")
    return user


def _check_roles(uow: UnitOfWork, roles: Any) -> set[str]:
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise BadRequest("roles is a list of role names", fields={"roles": "must be a list of role names"})
    known = set(uow.session.execute(select(Role.name)).scalars())
    unknown = sorted(set(roles) - known)
    if unknown:
        raise ValidationFailed(f"unknown role(s): {', '.join(unknown)}; the roles are {', '.join(sorted(known))}",
                               fields={"roles": f"unknown: {', '.join(unknown)}"})
    return set(roles) | {policy.EVERYONE}  # every account holds the requester role


def _other_active_admins(uow: UnitOfWork, user: User) -> int:
    stmt = (select(func.count()).select_from(User).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == ADMIN, User.active.is_(True), User.id != user.id))
    return int(uow.session.execute(stmt).scalar_one())


def _guard(uow: UnitOfWork, actor: Actor, user: User, roles: set[str], active: bool) -> None:
    """No lockout: an administrator keeps their own role and account, and one active administrator remains."""
    loses_admin = user.active and ADMIN in _roles(uow, user.id) and (ADMIN not in roles or
                                                                                      not active)
    if not loses_admin:
        return
    if user.username == actor.username:
        raise Conflict("you cannot deactivate yourself or remove your own admin role; ask another administrator")
    if _other_active_admins(uow, user) == 0:
        raise Conflict(f"{user.username} is the last active administrator; make someone else admin first")


def _cut_off(uow: UnitOfWork, user: User) -> tuple[int, int]:
    """Revokes every live token and ends every open session of the user. Returns (tokens, sessions)."""
    now = clock.now()
    tokens = list(uow.session.execute(select(ApiToken).where(ApiToken.user_id == user.id,
                                                             ApiToken.revoked_at.is_(None))).scalars())
    for token in tokens:
        token.revoked_at = now
    sessions = list(uow.session.execute(select(LoginSession).where(LoginSession.username == user.username,
                                                                   LoginSession.ended_at.is_(None))).scalars())
    for row in sessions:
        row.ended_at = now
    return len(tokens), len(sessions)


def update(db: Database, actor: Actor, username: str, reason: Any, roles: Any = None,
           active: Any = None) -> dict[str, Any]:
    """Sets the roles (the whole list; requester is always kept) and/or the active flag. Each change that
    changes something is one audit event: admin.roles_changed, admin.account_deactivated, admin.account_reactivated.
    Asking for what already holds changes nothing and writes nothing."""
    why = _reason(actor, reason)
    if roles is None and active is None:
        raise BadRequest("give roles or active (or both)", fields={"roles": "or active is required"})
    if active is not None and not isinstance(active, bool):
        raise BadRequest("active is true or false", fields={"active": "must be true or false"})
    with unit_of_work(db) as uow:
        user = _user(uow, username)
        before = _roles(uow, user.id)
        wanted = before if roles is None else _check_roles(uow, roles)
        live = user.active if active is None else active
        _guard(uow, actor, user, wanted, live)
        events = []
        if wanted != before:
            for role in wanted - before:
                uow.session.add(UserRole(user_id=user.id, role=role))
            for row in uow.session.execute(select(UserRole).where(UserRole.user_id == user.id,
                                                                  UserRole.role.in_(before - wanted))).scalars():
                uow.session.delete(row)
            events.append(NewEvent("admin.roles_changed", actor.username, data={
                "username": username, "before": sorted(before), "after": sorted(wanted), "reason": why}))
        if live != user.active:
            user.active = live
            data: dict[str, Any] = {"username": username, "reason": why}
            if not live:
                data["tokens_revoked"], data["sessions_ended"] = _cut_off(uow, user)
            events.append(NewEvent("admin.account_deactivated" if not live else "admin.account_reactivated",
                                   actor.username, data=data))
        if events:
            audit.append(uow, events)
        uow.session.flush()
        view = _view(uow, user)
        uow.commit()
    users.forget_tokens()  # the token cache holds roles and liveness: this process sees the change at once
    return view


def reset_password(db: Database, actor: Actor, username: str, password: Any, reason: Any) -> dict[str, Any]:
    """Sets a new password (the minimum length of new accounts). The person's tokens are revoked and their
    sessions ended: a reset usually means the old password may be known to someone else."""
    why = _reason(actor, reason)
    if not isinstance(password, str):
        raise BadRequest("password is required", fields={"password": "is required"})
    users.check_new_account(username, password)
    with unit_of_work(db) as uow:
        user = _user(uow, username)
        user.password_hash = users.hash_password(password)
        tokens, sessions = _cut_off(uow, user)
        audit.append(uow, [NewEvent("admin.password_reset", actor.username, data={
            "username": username, "reason": why, "tokens_revoked": tokens, "sessions_ended": sessions})])
        view = _view(uow, user)
        uow.commit()
    users.forget_tokens()
    return view
