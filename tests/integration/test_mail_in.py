"""Mail in, as the service takes it: replies become comments on the record their subject names, new mail from
known people starts the configured process, mail from unknown senders waits for the desk's decision."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from engine.db.database import Database, unit_of_work
from engine.errors import BadRequest, NotAllowed
from engine.services import conversation, instances, mail_in, users
from tests.bpmn_snippets import chain, user_task
from tests.conftest import ALICE, BOB, IVAN
from tests.mail_support import DESK, DOMAIN
from tests.support import deploy_xml, events, task_ids


def mail(sender: str, subject: str, body: str, files: list[tuple[str, bytes]] | None = None,
         **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, DESK, subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    for name, content in files or []:
        msg.add_attachment(content, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


@pytest.fixture
def desk(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    users.seed_demo_users(db)
    deploy_xml(db, chain("intake", [user_task(0, name="Register the mail")]))
    monkeypatch.setenv("ITSMFLOW_MAIL_FROM", DESK)
    monkeypatch.setenv("ITSMFLOW_MAIL_DOMAIN", DOMAIN)
    monkeypatch.setenv("ITSMFLOW_MAILIN_PROCESS", "intake")
    return db


def test_new_mail_from_a_known_person_raises_a_record(desk: Database) -> None:
    got = mail_in.receive(desk, mail(f"Ivan <ivan@{DOMAIN}>", "VPN drops every hour", "Since Monday.",
                                     [("trace.log", b"timeout\n")]), [DESK])
    assert got["status"] == "raised" and got["refused_files"] == []
    key = got["business_key"]
    view = events(desk, key, "instance.started")[0]["data"]["data"]
    assert view["summary"] == "VPN drops every hour" and view["description"] == "Since Monday."
    assert view["reporter"] == "ivan" and view["started_by"] == "ivan"
    assert task_ids(desk, key) == ["n0"]
    with unit_of_work(desk) as uow:
        files = conversation.attachments(uow, IVAN, instances.find(uow, IVAN, key))
    assert [f["filename"] for f in files] == ["trace.log"]


def test_a_reply_becomes_a_comment_on_its_record(desk: Database) -> None:
    key = instances.start(desk, IVAN, "intake", {"summary": "Printer"}).business_key
    reply = mail(f"ivan@{DOMAIN}", f"Re: [{key}] New comment on {key}",
                 "It works again, thanks!\n\nOn Tue, the desk wrote:\n> Did it help?\n", [("x.exe", b"MZ")])
    got = mail_in.receive(desk, reply, [DESK])
    assert got["status"] == "commented" and got["business_key"] == key
    assert got["refused_files"] and "x.exe" in got["refused_files"][0]
    [added] = events(desk, key, "comment.added")
    assert added["actor"] == "ivan" and added["data"]["body"] == "It works again, thanks!"
    assert added["data"]["source"] == "mail" and added["data"]["visibility"] == "public"


def test_unknown_senders_and_unplaceable_mail_wait_for_the_desk(desk: Database) -> None:
    key = instances.start(desk, IVAN, "intake", {"summary": "Printer"}).business_key
    stranger = mail_in.receive(desk, mail("someone@elsewhere.example", "Your invoice", "Pay now"), [DESK])
    assert stranger["status"] == "held"
    users.add_user(desk, "mallory", "demo", ["requester"])
    foreign = mail_in.receive(desk, mail(f"mallory@{DOMAIN}", f"Re: [{key}] hello", "let me in"), [DESK])
    assert foreign["status"] == "held"  # she may not see that record: nothing is added to it
    assert events(desk, key, "comment.added") == []
    auto = mail_in.receive(desk, mail(f"ivan@{DOMAIN}", "Out of office", "away", Auto_Submitted="auto-replied"),
                           [DESK])
    assert auto["status"] == "ignored"

    with unit_of_work(desk) as uow:
        waiting = mail_in.held(uow, ALICE)
        assert mail_in.held_count(uow) == 2
        with pytest.raises(NotAllowed):
            mail_in.held(uow, BOB)
    assert [m["from"] for m in waiting] == ["someone@elsewhere.example", f"mallory@{DOMAIN}"]
    with pytest.raises(BadRequest):
        mail_in.decide(desk, ALICE, waiting[0]["id"], "maybe")
    with pytest.raises(BadRequest):
        mail_in.decide(desk, ALICE, waiting[1]["id"], "comment")  # which record?
    rejected = mail_in.decide(desk, ALICE, waiting[0]["id"], "reject")
    assert rejected["status"] == "rejected" and rejected["decided_by"] == "alice"
    with pytest.raises(BadRequest, match="already decided"):
        mail_in.decide(desk, ALICE, waiting[0]["id"], "raise")
    noted = mail_in.decide(desk, ALICE, waiting[1]["id"], "comment", key.lower())
    assert noted["business_key"] == key
    [note] = events(desk, key, "comment.added")
    assert note["data"]["visibility"] == "internal" and f"Mail from mallory@{DOMAIN}" in note["data"]["body"]
    third = mail_in.receive(desk, mail("new.user@partner.example", "Need access to the wiki", "Please"), [DESK])
    raised = mail_in.decide(desk, ALICE, third["id"], "raise")
    started = events(desk, raised["business_key"], "instance.started")[0]
    # Reporters are accounts: the desk member raises it on the sender's behalf, the sender named in the text.
    raised_data = started["data"]["data"]
    assert started["actor"] == "alice" and raised_data["reporter"] == "alice"
    assert raised_data["description"].startswith("From new.user@partner.example")
    decisions = [e["data"]["decision"] for e in _trail(desk) if e["type"] == "mail.decided"]
    assert decisions == ["reject", "comment", "raise"]


def test_without_a_configured_process_new_mail_is_held(desk: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ITSMFLOW_MAILIN_PROCESS")
    got = mail_in.receive(desk, mail(f"ivan@{DOMAIN}", "Help", "please"), [DESK])
    assert got["status"] == "held" and got["reason"] == "no process configured"


def _trail(db: Database) -> list[dict]:  # type: ignore[type-arg]
    from sqlalchemy import select

    from engine.db.models import AuditEvent
    from engine.services import audit

    with unit_of_work(db) as uow:
        return [audit.event_view(e) for e in uow.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()]
