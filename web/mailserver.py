"""`itsmflow mail-in`: an SMTP listener (aiosmtpd) that takes mail for the service-desk address and hands each
message to engine.services.mail_in. Put it behind the organisation's mail server (a transport or forward rule
for the desk's address), see docs/mail.md. It accepts mail only for the desk's address: it is not a relay."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from engine.services import desk_config, mail_in
from engine.services.app_start import Handle

log = logging.getLogger(__name__)


class DeskHandler:
    def __init__(self, db: Handle) -> None:
        self.db = db

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address.strip().lower() != desk_config.service_desk_address():
            return "550 5.1.1 this server takes mail for the service desk only"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):
            raw = str(raw).encode("utf-8", "replace")
        try:
            # The database work is synchronous; a mail at a time is plenty for a service desk.
            result = mail_in.receive(self.db, raw, list(envelope.rcpt_tos))
        except Exception:  # tell the sending server to try again later rather than lose the mail
            log.exception("could not take a mail from %s", envelope.mail_from)
            return "451 4.3.0 could not store the message; try again later"
        log.info("mail from %s: %s", envelope.mail_from, result)
        return "250 OK"


def serve(db: Handle, host: str, port: int, stop: threading.Event | None = None) -> None:
    """Listens until SIGTERM / SIGINT (or `stop` is set)."""
    limit = desk_config.attachment_limits().max_bytes * 4 + 1024 * 1024
    controller = Controller(DeskHandler(db), hostname=host, port=port, data_size_limit=limit)
    controller.start()
    stop = stop or threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            signal.signal(sig, lambda *_: stop.set())
        except ValueError:  # not the main thread (tests): `stop` ends it
            pass
    log.info("mail-in listening on %s:%s for %s", host, port, desk_config.service_desk_address())
    try:
        stop.wait()
    finally:
        controller.stop()
