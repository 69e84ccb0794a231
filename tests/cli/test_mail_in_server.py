"""Mail out and back in through real servers: notifications leave through an SMTP server started by the test
(aiosmtpd), and `itsmflow mail-in` runs as its own process, takes new mail and replies over SMTP, and refuses
mail for other addresses."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from engine.db.database import Database
from engine.services import instances, notify_sweeps, users
from tests.bpmn_snippets import chain, user_task
from tests.conftest import ALICE, IVAN
from tests.mail_support import DESK, DOMAIN, SmtpServer, free_port
from tests.support import deploy_xml, events

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def desk_db(sqlite_db: Database) -> Database:
    users.seed_demo_users(sqlite_db)
    deploy_xml(sqlite_db, chain("intake", [user_task(0, name="Register the mail")]))
    return sqlite_db


@pytest.fixture
def listener(desk_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """`itsmflow mail-in` as a separate process on a free port, over the test's database."""
    port = free_port()
    env = {**os.environ, "ITSMFLOW_DATABASE_URL": desk_db.url, "ITSMFLOW_SECRET_KEY": "mail-test",
           "ITSMFLOW_MAIL_FROM": DESK, "ITSMFLOW_MAIL_DOMAIN": DOMAIN, "ITSMFLOW_MAILIN_PROCESS": "intake"}
    for name in ("ITSMFLOW_MAIL_FROM", "ITSMFLOW_MAIL_DOMAIN", "ITSMFLOW_MAILIN_PROCESS"):
        monkeypatch.setenv(name, env[name])
    proc = subprocess.Popen([sys.executable, "-m", "web.cli", "mail-in", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"itsmflow mail-in exited: {proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("itsmflow mail-in did not listen within 30 s")
    yield port
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _send(port: int, sender: str, subject: str, body: str, to: str = DESK) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(msg)


def test_new_mail_to_the_desk_becomes_a_record(desk_db: Database, listener: int) -> None:
    _send(listener, f"ivan@{DOMAIN}", "Cannot print to floor 3", "The queue is stuck.")
    started = events_of_kind(desk_db, "instance.started")
    assert len(started) == 1 and started[0]["actor"] == "ivan"
    assert started[0]["data"]["data"]["summary"] == "Cannot print to floor 3"
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        _send(listener, f"ivan@{DOMAIN}", "Relay me", "no", to="someone@elsewhere.example")


def test_a_reply_to_a_notification_comes_back_as_a_comment(desk_db: Database, listener: int, smtp: SmtpServer,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITSMFLOW_MAIL_FROM", DESK)  # the smtp fixture set the rest
    key = instances.start(desk_db, IVAN, "intake", {"summary": "Laptop fan is loud"}).business_key
    from engine.services import conversation

    conversation.add_comment(desk_db, ALICE, key, "Can you bring it to the desk at 3 pm?")
    assert notify_sweeps.run_once(desk_db, sweeps=False)["mail_sent"] == 1
    smtp.received.wait_for(1)
    [out] = smtp.received.to(f"ivan@{DOMAIN}")
    assert f"[{key}]" in out["Subject"] and "Can you bring it" in out.get_content()
    _send(listener, f"ivan@{DOMAIN}", f"Re: {out['Subject']}",
          f"Yes, I will be there.\n\nOn Tuesday {DESK} wrote:\n> Can you bring it to the desk at 3 pm?\n")
    comments = [e for e in events(desk_db, key, "comment.added") if e["actor"] == "ivan"]
    assert len(comments) == 1 and comments[0]["data"]["body"] == "Yes, I will be there."
    assert comments[0]["data"]["source"] == "mail"


def events_of_kind(db: Database, kind: str) -> list[dict]:  # type: ignore[type-arg]
    from sqlalchemy import select

    from engine.db.database import unit_of_work
    from engine.db.models import AuditEvent
    from engine.services import audit

    with unit_of_work(db) as uow:
        rows = uow.session.execute(select(AuditEvent).where(AuditEvent.type == kind).order_by(AuditEvent.seq))
        return [audit.event_view(e) for e in rows.scalars()]


def test_user_email_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "ITSMFLOW_DATABASE_URL": url, "ITSMFLOW_SECRET_KEY": "cli-test"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)

    assert run("db", "upgrade").returncode == 0
    assert run("seed-demo").returncode == 0
    done = run("user", "email", "ivan", "Ivan.Petrov@Example.org")
    assert done.returncode == 0 and "ivan: ivan.petrov@example.org" in done.stdout
    bad = run("user", "email", "ivan", "not an address")
    assert bad.returncode != 0 and "not an e-mail address" in bad.stderr
    assert "no user nobody" in run("user", "email", "nobody", "a@b.c").stderr
    assert "no address of their own" in run("user", "email", "ivan").stdout
