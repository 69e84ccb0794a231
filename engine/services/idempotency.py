"""Idempotency-Key: a request retried after a lost answer gets the first answer again instead of a 409."""

from __future__ import annotations

import hashlib

from sqlalchemy.exc import IntegrityError

from engine import clock
from engine.db.database import Database, unit_of_work
from engine.db.models_auth import IdempotencyKey
from engine.errors import BadRequest, ValidationFailed

MAX_KEY = 200


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), body])).hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY:
        raise BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY} characters", fields={"Idempotency-Key": "invalid"})
    return key


def recall(db: Database, username: str, key: str, print_: str) -> tuple[int, str] | None:
    """The stored answer for this user's key; a key reused for another request is refused (422)."""
    with unit_of_work(db, readonly=True) as uow:
        row = uow.session.get(IdempotencyKey, (username, key))
        if row is None:
            return None
        if row.fingerprint != print_:
            raise ValidationFailed("this Idempotency-Key was used for a different request",
                                   fields={"Idempotency-Key": "already used for another request"})
        return row.status, row.response_json


def remember(db: Database, username: str, key: str, print_: str, status: int, body: str) -> None:
    """Stores the answer (its JSON text) under the user's key."""
    with unit_of_work(db) as uow:
        uow.session.add(IdempotencyKey(username=username, key=key, fingerprint=print_, status=status,
                                       response_json=body, created_at=clock.now()))
        try:
            uow.commit()
        except IntegrityError:
            pass  # a concurrent retry stored the same answer first
