"""A real SMTP server for tests: aiosmtpd listening on a free port on 127.0.0.1, keeping what it receives.
The app is pointed at it through the environment, as an operator would configure it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

DOMAIN = "example.test"
DESK = f"servicedesk@{DOMAIN}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mails: list[EmailMessage] = field(default_factory=list)
    rcpts: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's name
        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self.rcpts.append(list(envelope.rcpt_tos))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m, r in zip(self.mails, self.rcpts, strict=True) if address in r]

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while len(self.mails) < count and time.monotonic() < end:
            time.sleep(0.05)


@dataclass
class SmtpServer:
    port: int
    received: Received
    controller: Controller | None

    def start(self) -> None:
        self.controller = Controller(self.received, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def configure(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    monkeypatch.setenv("ITSMFLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ITSMFLOW_SMTP_PORT", str(port))
    monkeypatch.setenv("ITSMFLOW_MAIL_FROM", DESK)
    monkeypatch.setenv("ITSMFLOW_MAIL_DOMAIN", DOMAIN)
    monkeypatch.setenv("ITSMFLOW_BASE_URL", "http://itsm.example.test")


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A running SMTP server the app is configured to send through."""
    server = SmtpServer(free_port(), Received(), None)
    server.start()
    configure(monkeypatch, server.port)
    yield server
    server.stop()
