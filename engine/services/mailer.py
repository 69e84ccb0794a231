"""Sends the mail outbox over SMTP (configured in the environment, see desk_config.smtp). Run by the worker.

Rows are claimed in a short transaction and sent outside it, so a slow or absent mail server never holds a
database lock; a claim is a lease, so mail of a worker that died is sent again later. Failures are retried with
growing pauses (1, 2, 4 ... minutes, at most an hour) and given up after MAX_ATTEMPTS."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import func, or_, select, update

from engine import clock
from engine.db.database import Database, unit_of_work
from engine.db.models_desk import MailOutbox
from engine.services import desk_config

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0  # attempts that failed this round (the mail stays queued unless it ran out of attempts)


def _claim(db: Database, limit: int) -> list[int]:
    with unit_of_work(db) as uow:
        now = clock.now()
        stmt = (select(MailOutbox.id).where(MailOutbox.status.in_(("pending", "sending")),
                                            MailOutbox.next_attempt_at <= now)
                .order_by(MailOutbox.next_attempt_at, MailOutbox.id).limit(limit))
        if uow.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        ids = list(uow.session.execute(stmt).scalars())
        if ids:
            uow.session.execute(update(MailOutbox).where(MailOutbox.id.in_(ids))
                                .values(status="sending", next_attempt_at=now + LEASE))
        uow.commit()
    return ids


def _message(row: MailOutbox, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = row.to_addr
    msg["Subject"] = row.subject
    msg["Message-ID"] = make_msgid(idstring=f"outbox{row.id}", domain=sender.rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(row.body)
    return msg


def _done(db: Database, row_id: int, error: str | None) -> bool:
    """Records the outcome; returns True when the mail was sent."""
    with unit_of_work(db) as uow:
        row = uow.session.get(MailOutbox, row_id)
        if row is None:
            return False
        now = clock.now()
        row.attempts += 1
        if error is None:
            row.status, row.sent_at, row.last_error = "sent", now, None
        else:
            row.last_error = error[:2000]
            row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"
            row.next_attempt_at = now + timedelta(minutes=min(2 ** (row.attempts - 1), 60))
        uow.commit()
    return error is None


def send_pending(db: Database, limit: int = 50) -> SendResult:
    result = SendResult()
    config = desk_config.smtp()
    if config is None:
        return result
    ids = _claim(db, limit)
    if not ids:
        return result
    try:
        server = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        if config.starttls:
            server.starttls()
        if config.username:
            server.login(config.username, config.password)
    except (OSError, smtplib.SMTPException) as exc:
        for row_id in ids:
            _done(db, row_id, f"cannot reach the mail server {config.host}:{config.port}: {exc}")
        result.failed += len(ids)
        return result
    try:
        for row_id in ids:
            with unit_of_work(db, readonly=True) as uow:
                row = uow.session.get(MailOutbox, row_id)
                message = _message(row, config.sender) if row is not None else None
            if message is None:
                continue
            try:
                server.send_message(message)
                error = None
            except (OSError, smtplib.SMTPException) as exc:
                error = str(exc) or type(exc).__name__
            if _done(db, row_id, error):
                result.sent += 1
            else:
                result.failed += 1
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return result


def outbox_status(db: Database) -> dict[str, int]:
    with unit_of_work(db, readonly=True) as uow:
        rows = uow.session.execute(select(MailOutbox.status, func.count()).group_by(MailOutbox.status)).all()
        waiting = uow.session.execute(select(func.count()).select_from(MailOutbox).where(
            or_(MailOutbox.status == "pending", MailOutbox.status == "sending"))).scalar_one()
    counts = {status: n for status, n in rows}
    return {"pending": waiting, "sent": counts.get("sent", 0), "failed": counts.get("failed", 0)}
