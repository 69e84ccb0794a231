"""Comments and attachments on a record: public or internal, limits from the configuration, content stored once
by checksum, and every one of them in the audit trail (attachments as their checksum)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from engine.db.database import Database, unit_of_work
from engine.db.models_desk import AttachmentBlob
from engine.errors import BadRequest, NotAllowed, NotFound, TooLarge
from engine.services import audit, conversation, instances
from engine.services.actors import Actor
from tests.bpmn_snippets import chain, user_task
from tests.conftest import ALICE, IVAN
from tests.support import deploy_xml, events

PDF = b"%PDF-1.4\n" + b"x" * 2000


@pytest.fixture
def record(db: Database) -> str:
    deploy_xml(db, chain("ask", [user_task(0)]))
    return instances.start(db, IVAN, "ask", {"summary": "Laptop is slow"}).business_key


def test_public_comments_and_internal_notes(db: Database, record: str) -> None:
    conversation.add_comment(db, IVAN, record, "It takes ten minutes to boot.")
    conversation.add_comment(db, ALICE, record, "Disk nearly full; check the backup agent", "internal")
    conversation.add_comment(db, ALICE, record, "We will call you at 14:00.", "public")
    with pytest.raises(NotAllowed):
        conversation.add_comment(db, IVAN, record, "sneaky", "internal")
    with pytest.raises(BadRequest):
        conversation.add_comment(db, IVAN, record, "   ")
    with pytest.raises(BadRequest):
        conversation.add_comment(db, ALICE, record, "x", "secret")
    with unit_of_work(db) as uow:
        inst = instances.find(uow, ALICE, record)
        staff = [c["body"] for c in conversation.comments(uow, ALICE, inst)]
        requester = [c["body"] for c in conversation.comments(uow, IVAN, inst)]
    assert staff == ["It takes ten minutes to boot.", "Disk nearly full; check the backup agent",
                     "We will call you at 14:00."]
    assert requester == ["It takes ten minutes to boot.", "We will call you at 14:00."]
    trail = events(db, record, "comment.added")
    assert [(e["actor"], e["data"]["visibility"]) for e in trail] == [
        ("ivan", "public"), ("alice", "internal"), ("alice", "public")]
    assert trail[1]["data"]["body"] == "Disk nearly full; check the backup agent"


def test_attachments_are_checked_stored_once_and_audited_by_checksum(db: Database, record: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    first = conversation.add_attachment(db, IVAN, record, "../../etc/error report.pdf", PDF)
    second = conversation.add_attachment(db, ALICE, record, "copy.pdf", PDF, "internal")
    digest = hashlib.sha256(PDF).hexdigest()
    assert first["filename"] == "error report.pdf" and first["sha256"] == digest == second["sha256"]
    assert first["content_type"] == "application/pdf" and first["size"] == len(PDF)
    with unit_of_work(db) as uow:
        assert uow.session.execute(select(func.count()).select_from(AttachmentBlob)).scalar_one() == 1
        meta, content = conversation.download(uow, IVAN, record, first["id"])
        assert content == PDF and meta["sha256"] == digest
        with pytest.raises(NotFound):  # the requester does not get internal files
            conversation.download(uow, IVAN, record, second["id"])
        assert conversation.download(uow, ALICE, record, second["id"])[1] == PDF
    [added, _] = events(db, record, "attachment.added")
    assert added["data"] == {"attachment_id": first["id"], "filename": "error report.pdf", "size": len(PDF),
                             "content_type": "application/pdf", "sha256": digest, "visibility": "public"}

    with pytest.raises(BadRequest, match="not accepted"):
        conversation.add_attachment(db, IVAN, record, "tool.exe", b"MZ...")
    with pytest.raises(BadRequest, match="empty"):
        conversation.add_attachment(db, IVAN, record, "empty.txt", b"")
    monkeypatch.setenv("ITSMFLOW_ATTACHMENT_MAX_BYTES", "1000")
    with pytest.raises(TooLarge):
        conversation.add_attachment(db, IVAN, record, "big.pdf", PDF)
    monkeypatch.setenv("ITSMFLOW_ATTACHMENT_TYPES", "txt")
    with pytest.raises(BadRequest, match="allowed: txt"):
        conversation.add_attachment(db, IVAN, record, "small.pdf", b"%PDF")
    assert len(events(db, record, "attachment.added")) == 2  # refused files leave nothing behind


def test_only_those_who_see_the_record_get_its_files(db: Database, record: str) -> None:
    stranger = Actor("mallory", frozenset({"requester"}))
    att = conversation.add_attachment(db, IVAN, record, "notes.txt", b"hello")
    other = instances.start(db, IVAN, "ask", {}).business_key
    with unit_of_work(db) as uow:
        with pytest.raises(NotAllowed):
            conversation.download(uow, stranger, record, att["id"])
        with pytest.raises(NotFound):  # an id of another record's file is not found through this one
            conversation.download(uow, IVAN, other, att["id"])
    with pytest.raises(NotAllowed):
        conversation.add_comment(db, stranger, record, "let me in")
    with unit_of_work(db) as uow:
        assert audit.verify(uow).ok
