"""Local accounts, roles and API tokens (passwords scrypt-hashed, tokens stored as sha256)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Iterable

from sqlalchemy import select

from engine import clock
from engine.db.database import Database, unit_of_work
from engine.db.models import ApiToken, Role, User, UserRole
from engine.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from engine.services import audit
from engine.services.actors import Actor
from engine.services.audit import NewEvent

DEMO_USERS = {
    "alice": ["service_desk"], "bob": ["resolver"], "carol": ["change_manager"], "dave": ["cab"],
    "erin": ["implementer"], "frank": ["release_manager"], "grace": ["process_owner"], "heidi": ["auditor"],
    "ivan": ["requester"], "admin": ["admin"],
}
DEMO_PASSWORD = "demo"
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        _, n, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=_R, p=_P)
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def _roles_of(session, user_id: int) -> frozenset[str]:  # type: ignore[no-untyped-def]
    stmt = select(UserRole.role).where(UserRole.user_id == user_id)
    return frozenset(session.execute(stmt).scalars())


def add_user(db: Database, username: str, password: str, roles: list[str], display_name: str = "",
             created_by: str = "cli") -> Actor:
    with unit_of_work(db) as uow:
        session = uow.session
        known = set(session.execute(select(Role.name)).scalars())
        unknown = [r for r in roles if r not in known]
        if unknown:
            raise ValidationFailed(f"unknown role(s): {', '.join(unknown)}", fields={"role": ", ".join(sorted(known))})
        if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
            raise Conflict(f"user {username} already exists")
        user = User(username=username, display_name=display_name or username,
                    password_hash=hash_password(password), created_at=clock.now())
        session.add(user)
        session.flush()
        for role in sorted(set(roles) | {"requester"}):
            session.add(UserRole(user_id=user.id, role=role))
        audit.append(uow, [NewEvent("user.created", created_by, data={
            "username": username, "roles": sorted(set(roles) | {"requester"})})])
        uow.commit()
        return Actor(username, frozenset(roles) | {"requester"})


def seed_demo_users(db: Database) -> list[str]:
    created = []
    for name, roles in DEMO_USERS.items():
        try:
            add_user(db, name, DEMO_PASSWORD, roles)
            created.append(name)
        except Conflict:
            continue
    return created


def authenticate(db: Database, username: str, password: str) -> Actor:
    with unit_of_work(db, readonly=True) as uow:
        user = uow.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None or not user.active or not check_password(password, user.password_hash):
            raise Unauthenticated("unknown user or wrong password")
        return Actor(user.username, _roles_of(uow.session, user.id))


def actor_for(db: Database, username: str) -> Actor:
    with unit_of_work(db, readonly=True) as uow:
        user = uow.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None or not user.active:
            raise NotFound(f"no user {username}")
        return Actor(user.username, _roles_of(uow.session, user.id))


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Database, username: str) -> str:
    """Returns the token once; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    with unit_of_work(db) as uow:
        user = uow.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            raise NotFound(f"no user {username}")
        uow.session.add(ApiToken(user_id=user.id, token_hash=_token_digest(token), created_at=clock.now()))
        # The token itself is never recorded; that one was made, for whom, is.
        audit.append(uow, [NewEvent("token.created", username, data={"username": username})])
        uow.commit()
    return token


# A short in-process cache of token -> actor, so a busy API client costs no query per request. Keyed by the
# token's digest and by database; entries live TOKEN_CACHE_SECONDS at most. Whatever revokes or expires a token,
# deactivates a user or changes their roles calls forget_tokens() in the same process; other processes (other
# gunicorn workers) see the change when their entry runs out, within TOKEN_CACHE_SECONDS.
TOKEN_CACHE_SECONDS = float(os.environ.get("ITSMFLOW_TOKEN_CACHE_SECONDS", "5"))
_TOKEN_CACHE_MAX = 4096
_token_cache: dict[tuple[str, str], tuple[Actor, float]] = {}


def forget_tokens(tokens: Iterable[str] | None = None) -> None:
    """Empties the token cache (all of it, or the entries of these tokens): call on revocation or expiry."""
    if tokens is None:
        _token_cache.clear()
        return
    digests = {_token_digest(t) for t in tokens}
    for key in [k for k in _token_cache if k[1] in digests]:
        _token_cache.pop(key, None)


def actor_for_token(db: Database, token: str) -> Actor:
    """One indexed query (token hash -> user and roles) on a cache miss, none on a hit."""
    digest = _token_digest(token)
    key = (db.url, digest)
    now = time.monotonic()
    hit = _token_cache.get(key)
    if hit is not None and hit[1] > now:
        return hit[0]
    with unit_of_work(db, readonly=True) as uow:
        stmt = (select(User.username, UserRole.role)
                .join(ApiToken, ApiToken.user_id == User.id)
                .outerjoin(UserRole, UserRole.user_id == User.id)
                .where(ApiToken.token_hash == digest, User.active.is_(True)))
        rows = uow.session.execute(stmt).all()
    if not rows:
        _token_cache.pop(key, None)
        raise Unauthenticated("unknown or revoked token")
    actor = Actor(rows[0].username, frozenset(r.role for r in rows if r.role))
    if TOKEN_CACHE_SECONDS > 0:
        if len(_token_cache) >= _TOKEN_CACHE_MAX:
            _token_cache.clear()
        _token_cache[key] = (actor, now + TOKEN_CACHE_SECONDS)
    return actor
