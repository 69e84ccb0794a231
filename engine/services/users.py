"""Local accounts, roles and API tokens (passwords scrypt-hashed, tokens stored as sha256)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import secrets
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import ApiToken, Role, User, UserRole
from engine.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from engine.services import audit
from engine.services.actors import Actor
from engine.services.audit import NewEvent

DEMO_USERS = {
    "alice": ["service_desk"], "bob": ["resolver"], "carol": ["change_manager"], "dave": ["cab"],
    "erin": ["implementer"], "frank": ["release_manager"], "grace": ["process_owner"], "heidi": ["auditor"],
    "ivan": ["requester"], "admin": ["admin"],
    # so that every path of the shipped processes can be finished without admin: a sponsor, a second CAB
    # member and change manager (separation of duties), the problem team
    "stella": ["executive_sponsor"], "dora": ["cab"], "percy": ["problem_team"], "cora": ["change_manager"],
}
DEMO_PASSWORD = "demo"
_N, _R, _P = 2**14, 8, 1
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
PASSWORD_MIN_LENGTH = int(os.environ.get("ITSMFLOW_PASSWORD_MIN_LENGTH", "10"))
TOKEN_HOURS = float(os.environ.get("ITSMFLOW_TOKEN_HOURS", "720"))  # 30 days; 0: tokens never expire


def hash_password(password: str) -> str:
    """scrypt, with every parameter stored beside the salt: `scrypt$n$r$p$salt$digest`."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def _params(stored: str) -> tuple[int, int, int, bytes, str]:
    parts = stored.split("$")
    if len(parts) == 4:  # the old form `scrypt$n$salt$digest`, written with r=8, p=1
        _, n, salt, digest = parts
        return int(n), 8, 1, bytes.fromhex(salt), digest
    _, n, r, p, salt, digest = parts
    return int(n), int(r), int(p), bytes.fromhex(salt), digest


def check_password(password: str, stored: str) -> bool:
    try:
        n, r, p, salt, digest = _params(stored)
        got = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024)
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def needs_rehash(stored: str) -> bool:
    """True for a hash in the old form or with other parameters than today's: rewritten at the next sign-in."""
    try:
        n, r, p, _salt, _digest = _params(stored)
    except ValueError:
        return True
    return len(stored.split("$")) != 6 or (n, r, p) != (_N, _R, _P)


# Checked when a user does not exist, so that a wrong name costs the same time as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_hex(8))


def check_new_account(username: str, password: str | None) -> None:
    """The rules for a new account's name (and password, when one is being set by a person)."""
    if not isinstance(username, str) or not USERNAME.match(username):
        raise ValidationFailed("a user name is 1 to 80 lower-case letters, digits, '.', '_' or '-', starting with "
                               "a letter or digit", fields={"username": "is not a valid user name"})
    if password is not None and len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationFailed(f"a password needs at least {PASSWORD_MIN_LENGTH} characters",
                               fields={"password": f"is shorter than {PASSWORD_MIN_LENGTH} characters"})


def _roles_of(session: Session, user_id: int) -> frozenset[str]:
    stmt = select(UserRole.role).where(UserRole.user_id == user_id)
    return frozenset(session.execute(stmt).scalars())


def add_user(db: Database, username: str, password: str, roles: list[str], display_name: str = "",
             created_by: str = "cli", enforce_password: bool = False) -> Actor:
    """enforce_password: apply the minimum length (the CLI does; demo and test accounts use `demo`)."""
    check_new_account(username, password if enforce_password else None)
    with unit_of_work(db) as uow:
        session = uow.session
        known = set(session.execute(select(Role.name)).scalars())
        unknown = [r for r in roles if r not in known]
        if unknown:
            raise ValidationFailed(f"unknown role(s): {', '.join(unknown)}", fields={"role": ", ".join(sorted(known))})
        if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
            raise Conflict(f"user {username} already exists")
        digest = _demo_password_hash() if password == DEMO_PASSWORD else hash_password(password)
        user = User(username=username, display_name=display_name or username,
                    password_hash=digest, created_at=clock.now())
        session.add(user)
        session.flush()
        for role in sorted(set(roles) | {"requester"}):
            session.add(UserRole(user_id=user.id, role=role))
        audit.append(uow, [NewEvent("user.created", created_by, data={
            "username": username, "roles": sorted(set(roles) | {"requester"})})])
        uow.commit()
        return Actor(username, frozenset(roles) | {"requester"})


@functools.cache
def _demo_password_hash() -> str:
    """The demo password is published (README): one salted hash per process for every demo account, instead of a
    fresh scrypt run per account, keeps seeding (and every test that seeds) cheap. Real accounts get their own."""
    return hash_password(DEMO_PASSWORD)


def seed_demo_users(db: Database) -> list[str]:
    created = []
    for name, roles in DEMO_USERS.items():
        try:
            add_user(db, name, DEMO_PASSWORD, roles)
            created.append(name)
        except Conflict:
            continue
    return created


def check_accounts(uow: UnitOfWork, named: dict[str, object]) -> None:
    """Fields naming people (requester, reporter) must name active accounts: refused with the field named.
    A database with no accounts at all (the engine embedded without sign-in) keeps free-text names."""
    wanted = {f: v for f, v in named.items() if v not in (None, "")}
    if not wanted or uow.session.execute(select(User.id).limit(1)).first() is None:
        return
    names = {v for v in wanted.values() if isinstance(v, str)}
    known = set(uow.session.execute(select(User.username).where(User.username.in_(sorted(names)),
                                                                User.active.is_(True))).scalars())
    errors = {f: f"must be the user name of an account; there is no user {v!r}" for f, v in wanted.items()
              if not isinstance(v, str) or v not in known}
    if errors:
        raise ValidationFailed("people are named by their user name", fields=errors)


def authenticate(db: Database, username: str, password: str) -> Actor:
    """Password check only; sign-in throttling is signin.authenticate's."""
    with unit_of_work(db, readonly=True) as uow:
        user = uow.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        # The same scrypt work whether or not the user exists: response time tells no names apart.
        ok = check_password(password, user.password_hash if user is not None else _DUMMY_HASH)
        if user is None or not user.active or not ok:
            raise Unauthenticated("unknown user or wrong password")
        actor = Actor(user.username, _roles_of(uow.session, user.id))
        rehash = needs_rehash(user.password_hash)
    if rehash:
        with unit_of_work(db) as uow:
            row = uow.session.execute(select(User).where(User.username == username)).scalar_one()
            row.password_hash = hash_password(password)
            uow.commit()
    return actor


def actor_for(db: Database, username: str) -> Actor:
    with unit_of_work(db, readonly=True) as uow:
        user = uow.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None or not user.active:
            raise NotFound(f"no user {username}")
        return Actor(user.username, _roles_of(uow.session, user.id))


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Database, username: str, hours: float | None = None) -> str:
    """Returns the token once; only its hash is kept. It expires after `hours` (ITSMFLOW_TOKEN_HOURS)."""
    return issue_token(db, username, hours)["token"]


def issue_token(db: Database, username: str, hours: float | None = None) -> dict[str, Any]:
    hours = TOKEN_HOURS if hours is None else hours
    if hours < 0:
        raise ValidationFailed("hours must be 0 (no expiry) or more", fields={"hours": "must not be negative"})
    token = secrets.token_urlsafe(32)
    now = clock.now()
    expires = now + timedelta(hours=hours) if hours > 0 else None
    with unit_of_work(db) as uow:
        user = uow.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            raise NotFound(f"no user {username}")
        row = ApiToken(user_id=user.id, token_hash=_token_digest(token), created_at=now, expires_at=expires)
        uow.session.add(row)
        uow.session.flush()
        # The token itself is never recorded; that one was made, for whom, is.
        audit.append(uow, [NewEvent("token.created", username, data={
            "username": username, "token_id": row.id, "expires_at": expires.isoformat() if expires else None})])
        uow.commit()
        return {"token": token, "id": row.id, "expires_at": expires.isoformat() if expires else None}


def revoke_tokens(db: Database, by: str, username: str | None = None, token: str | None = None) -> int:
    """Revokes one token (by its text) or every live token of a user. Returns how many."""
    with unit_of_work(db) as uow:
        stmt = select(ApiToken).where(ApiToken.revoked_at.is_(None))
        if token is not None:
            stmt = stmt.where(ApiToken.token_hash == _token_digest(token))
        elif username is not None:
            user = uow.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
            if user is None:
                raise NotFound(f"no user {username}")
            stmt = stmt.where(ApiToken.user_id == user.id)
        else:
            raise ValidationFailed("name a token or a user")
        rows = list(uow.session.execute(stmt).scalars())
        now = clock.now()
        for row in rows:
            row.revoked_at = now
        audit.append(uow, [NewEvent("token.revoked", by, data={"token_ids": [r.id for r in rows],
                                                              "username": username})])
        uow.commit()
    forget_tokens()
    return len(rows)


# A short in-process cache of token -> actor, so a busy API client costs no query per request. Keyed by the
# token's digest and by database; entries live TOKEN_CACHE_SECONDS at most and never past the token's own expiry
# (checked on every hit against the clock). Whatever revokes a token, deactivates a user or changes their roles
# calls forget_tokens() in the same process; other processes (other gunicorn workers) see the change when their
# entry runs out, within TOKEN_CACHE_SECONDS.
TOKEN_CACHE_SECONDS = float(os.environ.get("ITSMFLOW_TOKEN_CACHE_SECONDS", "5"))
_TOKEN_CACHE_MAX = 4096
_token_cache: dict[tuple[str, str], tuple[Actor, float, datetime | None]] = {}


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
    if hit is not None and hit[1] > now and (hit[2] is None or hit[2] > clock.now()):
        return hit[0]
    with unit_of_work(db, readonly=True) as uow:
        stmt = (select(User.username, UserRole.role, ApiToken.expires_at)
                .join(ApiToken, ApiToken.user_id == User.id)
                .outerjoin(UserRole, UserRole.user_id == User.id)
                .where(ApiToken.token_hash == digest, User.active.is_(True), ApiToken.revoked_at.is_(None),
                       or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > clock.now())))
        rows = uow.session.execute(stmt).all()
    if not rows:
        _token_cache.pop(key, None)
        raise Unauthenticated("unknown or revoked token")
    actor = Actor(rows[0].username, frozenset(r.role for r in rows if r.role))
    if TOKEN_CACHE_SECONDS > 0:
        if len(_token_cache) >= _TOKEN_CACHE_MAX:
            _token_cache.clear()
        _token_cache[key] = (actor, now + TOKEN_CACHE_SECONDS, rows[0].expires_at)
    return actor
