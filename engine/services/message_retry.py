"""How long the worker keeps trying a message nobody took: a bounded number of attempts with a pause that doubles
after each one, then the message is a dead letter (status `dead`) for an administrator to redeliver or discard.

The limits are environment settings (docs/api.md, "Messages"), read when asked so that a worker picks up a
change at its next round and a test can set them."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update

from engine import clock
from engine.db.database import UnitOfWork
from engine.db.models import Message
from engine.services import audit
from engine.services.audit import NewEvent

log = logging.getLogger(__name__)

MAX_ATTEMPTS_ENV = "ITSMFLOW_MESSAGE_MAX_ATTEMPTS"
FIRST_PAUSE_ENV = "ITSMFLOW_MESSAGE_RETRY_SECONDS"
MAX_PAUSE_ENV = "ITSMFLOW_MESSAGE_RETRY_MAX_SECONDS"
# 20 attempts, from one minute doubling to six hours: a message waits about three days for its receiver
# (a process deployed late, a record that starts waiting late) before it is dead-lettered.
DEFAULTS = {MAX_ATTEMPTS_ENV: 20, FIRST_PAUSE_ENV: 60, MAX_PAUSE_ENV: 6 * 3600}
RETRYABLE = ("pending", "unrouted")


@dataclass(frozen=True)
class RetrySettings:
    max_attempts: int
    first_pause: float  # seconds
    max_pause: float

    def pause(self, attempts: int) -> timedelta:
        """The pause after the `attempts`-th failed attempt: first_pause, doubled each time, at most max_pause."""
        seconds = self.first_pause * 2 ** min(max(attempts - 1, 0), 40)
        return timedelta(seconds=min(seconds, self.max_pause))


def _number(name: str) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return DEFAULTS[name]
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if value < 0 or (name == MAX_ATTEMPTS_ENV and value < 1):
        # A typo in the environment must not stop the worker: say so and keep the default.
        log.warning("%s=%r is not a valid value; using %s", name, raw, DEFAULTS[name])
        return DEFAULTS[name]
    return value


def settings() -> RetrySettings:
    first = _number(FIRST_PAUSE_ENV)
    return RetrySettings(max_attempts=int(_number(MAX_ATTEMPTS_ENV)), first_pause=first,
                         max_pause=max(_number(MAX_PAUSE_ENV), first))


def failed_attempt(uow: UnitOfWork, msg: Message, error: str, actor: str) -> None:
    """Counts an attempt that reached nobody: the next one after a growing pause, or, when the attempts are
    used up, a dead letter (recorded in the sender's trail as message.dead_lettered)."""
    limits = settings()
    now = clock.now()
    msg.attempts += 1
    msg.last_error = error[:500]
    if msg.attempts < limits.max_attempts:
        msg.status, msg.next_attempt_at = "unrouted", now + limits.pause(msg.attempts)
        return
    msg.status, msg.next_attempt_at, msg.dead_at = "dead", None, now
    audit.append(uow, [NewEvent("message.dead_lettered", actor, msg.sender_instance_id, None, None,
                                {"name": msg.name, "message_id": msg.id, "attempts": msg.attempts,
                                 "error": msg.last_error})])


def wake(uow: UnitOfWork, names: list[str]) -> None:
    """A process that starts on one of these messages was deployed: what waited for it is tried at the
    worker's next round, not after the rest of its pause (dead letters stay for an administrator)."""
    if names:
        uow.session.execute(update(Message).where(Message.status == "unrouted", Message.name.in_(names))
                            .values(next_attempt_at=None))
