"""Signing in: failed attempts counted per account and per address, with a growing lockout (audited), and
browser sessions kept on the server so that signing out ends them."""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from engine import clock
from engine.db.database import Database, unit_of_work
from engine.db.models_auth import LoginSession, LoginThrottle
from engine.errors import TooManyAttempts, Unauthenticated
from engine.services import audit, users
from engine.services.actors import Actor
from engine.services.audit import NewEvent

ACCOUNT_FAILURES = int(os.environ.get("ITSMFLOW_LOGIN_ACCOUNT_FAILURES", "5"))
ADDRESS_FAILURES = int(os.environ.get("ITSMFLOW_LOGIN_ADDRESS_FAILURES", "20"))
FIRST_LOCK = timedelta(seconds=float(os.environ.get("ITSMFLOW_LOGIN_LOCK_SECONDS", "30")))
LAST_LOCK = timedelta(minutes=15)


def _keys(username: str, address: str | None) -> list[tuple[str, int]]:
    keys = [(f"user:{username[:80].lower()}", ACCOUNT_FAILURES)]
    if address:
        keys.append((f"addr:{address[:100]}", ADDRESS_FAILURES))
    return keys


def _locked(username: str, address: str | None, db: Database, now: datetime) -> datetime | None:
    with unit_of_work(db, readonly=True) as uow:
        rows = uow.session.execute(select(LoginThrottle).where(
            LoginThrottle.key.in_([k for k, _ in _keys(username, address)]))).scalars()
        until = [r.locked_until for r in rows if r.locked_until is not None and r.locked_until > now]
    return max(until) if until else None


def authenticate(db: Database, username: str, password: str, address: str | None) -> Actor:
    """users.authenticate behind the throttle. A locked account or address is refused before the password is
    looked at (TooManyAttempts, with the time to wait)."""
    now = clock.now()
    until = _locked(username, address, db, now)
    if until is not None:
        seconds = int((until - now).total_seconds()) + 1
        raise TooManyAttempts(f"too many failed sign-ins; try again in {seconds} seconds", retry_after=seconds)
    try:
        actor = users.authenticate(db, username, password)
    except Unauthenticated:
        _failed(db, username, address)
        raise
    _succeeded(db, username)
    return actor


def _failed(db: Database, username: str, address: str | None) -> None:
    now = clock.now()
    events = []
    with unit_of_work(db) as uow:
        for key, allowed in _keys(username, address):
            row = uow.session.get(LoginThrottle, key)
            if row is None:
                row = LoginThrottle(key=key, failures=0, updated_at=now)
                uow.session.add(row)
            row.failures += 1
            row.updated_at = now
            if row.failures >= allowed:
                # 30 s at the limit, doubling with each further failure, at most 15 minutes.
                lock = min(FIRST_LOCK * 2 ** min(row.failures - allowed, 16), LAST_LOCK)
                row.locked_until = now + lock
                events.append(NewEvent("login.locked", "system", data={
                    "key": key, "failures": row.failures, "until": row.locked_until.isoformat()}))
        if events:
            audit.append(uow, events)
        uow.commit()


def _succeeded(db: Database, username: str) -> None:
    with unit_of_work(db) as uow:
        row = uow.session.get(LoginThrottle, f"user:{username[:80].lower()}")
        if row is not None and row.failures:
            row.failures, row.locked_until, row.updated_at = 0, None, clock.now()
            uow.commit()


# ------------------------------------------------------------------------------------------------ sessions

def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(db: Database, username: str) -> str:
    """A new server-side session; the returned id goes into the signed cookie (only its hash is stored)."""
    session_id = secrets.token_urlsafe(32)
    with unit_of_work(db) as uow:
        uow.session.add(LoginSession(id=_digest(session_id), username=username, created_at=clock.now()))
        uow.commit()
    return session_id


def session_is_live(db: Database, session_id: str, username: str) -> bool:
    with unit_of_work(db, readonly=True) as uow:
        row = uow.session.get(LoginSession, _digest(session_id))
        return row is not None and row.ended_at is None and row.username == username


def end_session(db: Database, session_id: str) -> None:
    with unit_of_work(db) as uow:
        row = uow.session.get(LoginSession, _digest(session_id))
        if row is not None and row.ended_at is None:
            row.ended_at = clock.now()
            uow.commit()
