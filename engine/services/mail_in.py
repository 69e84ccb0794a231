"""Mail received by the service desk (see docs/mail.md).

- A reply that names a record in its subject (`[INC-000123]`) from a person who may see that record becomes a
  public comment on it (with its attachments).
- Any other mail from a known person starts the process named by ITSMFLOW_MAILIN_PROCESS (a triage record),
  with the subject as `summary`, the text as `description` and the sender as `reporter`.
- Mail from unknown senders, and whatever cannot be placed, is held for the service desk to decide: raise a
  record, add it to a record, or reject it. Every decision is audited."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser
from typing import Any

from sqlalchemy import func, select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import User, UserRole
from engine.db.models_desk import InboundMail
from engine.db.rows import InstanceRow
from engine.errors import BadRequest, DomainError, NotFound
from engine.services import audit, conversation, desk_config, instances, messages, notify, policy, record_access
from engine.services.actors import Actor
from engine.services.audit import NewEvent

REFERENCE = re.compile(r"\[([A-Z][A-Z0-9]{1,9}-\d{3,})\]")
MAX_BODY = 20_000
_QUOTE_HEAD = re.compile(r"^(On .+ wrote:|-{2,} ?Original Message ?-{2,}|From: .+)$", re.IGNORECASE)


@dataclass
class Parsed:
    sender: str
    subject: str
    body: str
    message_id: str
    files: list[tuple[str, bytes]] = field(default_factory=list)
    automatic: bool = False


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _strip_quote(text: str) -> str:
    """The new part of a reply: stops at the quoted mail ("On ... wrote:", "> " lines)."""
    kept = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if _QUOTE_HEAD.match(line.strip()) or line.startswith(">"):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def parse(raw: bytes) -> Parsed:
    msg = message_from_bytes(raw, policy=email_policy.default)
    assert isinstance(msg, EmailMessage)
    sender = parseaddr(str(msg.get("From", "")))[1].strip().lower()
    subject = " ".join(str(msg.get("Subject", "")).split())[:280]
    body_part = msg.get_body(preferencelist=("plain", "html"))
    text = ""
    if body_part is not None:
        content = body_part.get_content()
        if body_part.get_content_subtype() == "html":
            parser = _Text()
            parser.feed(content)
            content = "".join(parser.parts)
        text = _strip_quote(str(content))[:MAX_BODY]
    files = []
    for part in msg.iter_attachments():
        name = part.get_filename()
        payload = part.get_payload(decode=True)
        if name and isinstance(payload, bytes):
            files.append((name, payload))
    auto = str(msg.get("Auto-Submitted", "no")).lower() not in ("", "no") or bool(msg.get("X-Autoreply"))
    return Parsed(sender, subject, text, str(msg.get("Message-ID", ""))[:300], files, auto)


def _actor(uow: UnitOfWork, username: str) -> Actor:
    """The sender acts as themselves, with their roles (mail is as good as the sign-in it stands for)."""
    user_id = uow.session.execute(select(User.id).where(User.username == username)).scalar_one()
    roles = frozenset(uow.session.execute(select(UserRole.role).where(UserRole.user_id == user_id)).scalars())
    return Actor(username, roles)


def _attach(uow: UnitOfWork, actor: Actor, inst: InstanceRow, files: list[tuple[str, bytes]],
            comment_id: int | None) -> list[str]:
    """Adds the files the configuration allows; returns a note for each one refused."""
    refused = []
    for name, content in files:
        try:
            with uow.session.begin_nested():
                conversation.add_attachment_in(uow, actor, inst, name, content, "public", comment_id)
        except DomainError as exc:
            refused.append(f"{name}: {exc.message}")
    return refused


def _record(uow: UnitOfWork, row: InboundMail, status: str, key: str | None = None, by: str | None = None) -> None:
    row.status, row.business_key, row.decided_by = status, key, by


def receive(db: Database, raw: bytes, recipients: list[str]) -> dict[str, Any]:
    """Takes one received mail; returns what became of it: commented / raised / held / ignored."""
    mail = parse(raw)
    desk = desk_config.service_desk_address()
    if mail.automatic or not mail.sender or mail.sender == desk:
        return {"status": "ignored", "reason": "automatic reply or from ourselves"}
    with unit_of_work(db) as uow:
        row = InboundMail(message_id=mail.message_id, from_addr=mail.sender[:320],
                          to_addr=", ".join(recipients)[:320], subject=mail.subject or "(no subject)",
                          body=mail.body, status="held", received_at=clock.now())
        uow.session.add(row)
        uow.session.flush()
        result = _place(uow, row, mail)
        uow.commit()
        row_id = row.id
    messages.deliver_pending(db, result.pop("message_ids", []))
    return {**result, "id": row_id}


def _place(uow: UnitOfWork, row: InboundMail, mail: Parsed) -> dict[str, Any]:
    username = notify.user_for_address(uow, mail.sender)
    if username is None:
        _held_event(uow, row, "unknown sender")
        return {"status": "held", "reason": "unknown sender"}
    actor = _actor(uow, username)
    ref = REFERENCE.search(mail.subject)
    if ref:
        try:
            with uow.session.begin_nested():
                inst = record_access.find(uow, actor, ref.group(1))
                comment = conversation.add_comment_in(uow, actor, inst, mail.body or "(no text)", "public", "mail")
                refused = _attach(uow, actor, inst, mail.files, comment.id)
        except DomainError as exc:
            _held_event(uow, row, f"reply to {ref.group(1)}: {exc.message}")
            return {"status": "held", "reason": exc.message}
        _record(uow, row, "commented", inst.business_key)
        return {"status": "commented", "business_key": inst.business_key, "refused_files": refused}
    return _raise(uow, row, mail, actor, username)


def _raise(uow: UnitOfWork, row: InboundMail, mail: Parsed, actor: Actor, reporter: str) -> dict[str, Any]:
    process = desk_config.mail_in_process()
    if not process:
        _held_event(uow, row, "no process configured for mail (ITSMFLOW_MAILIN_PROCESS)")
        return {"status": "held", "reason": "no process configured"}
    data = {"summary": mail.subject or "(no subject)", "description": mail.body, "reporter": reporter}
    try:
        with uow.session.begin_nested():
            outcome = instances.start_in(uow, actor, process, data)
            inst = outcome.instance
            refused = _attach(uow, actor, inst, mail.files, None)
    except DomainError as exc:
        _held_event(uow, row, f"could not start {process}: {exc.message}")
        return {"status": "held", "reason": exc.message}
    _record(uow, row, "raised", inst.business_key)
    return {"status": "raised", "business_key": inst.business_key, "refused_files": refused,
            "message_ids": outcome.message_ids}


def _held_event(uow: UnitOfWork, row: InboundMail, reason: str) -> None:
    audit.append(uow, [NewEvent("mail.held", "mail-in", data={
        "mail_id": row.id, "from": row.from_addr, "subject": row.subject, "reason": reason})])


# ------------------------------------------------------------------------------------------ the desk's decisions

def mail_view(m: InboundMail) -> dict[str, Any]:
    ref = REFERENCE.search(m.subject)
    return {"id": m.id, "from": m.from_addr, "to": m.to_addr, "subject": m.subject, "body": m.body,
            "status": m.status, "business_key": m.business_key, "decided_by": m.decided_by,
            "received_at": m.received_at.isoformat(), "reference": ref.group(1) if ref else None}


def held(uow: UnitOfWork, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
    policy.require(actor, "mail_in")
    stmt = select(InboundMail).where(InboundMail.status == "held").order_by(InboundMail.id).limit(limit)
    return [mail_view(m) for m in uow.session.execute(stmt).scalars()]


def held_count(uow: UnitOfWork) -> int:
    return uow.session.execute(select(func.count()).select_from(InboundMail)
                               .where(InboundMail.status == "held")).scalar_one()


def decide(db: Database, actor: Actor, mail_id: int, decision: str, business_key: str | None = None) -> dict[str, Any]:
    """raise: start the mail-in process on the sender's behalf (the desk member starts it and is its reporter);
    comment: add the mail to `business_key` as an internal note; reject: keep it, do nothing."""
    policy.require(actor, "mail_in")
    if decision not in ("raise", "comment", "reject"):
        raise BadRequest("decision must be raise, comment or reject", fields={"decision": "raise|comment|reject"})
    with unit_of_work(db) as uow:
        row = uow.session.get(InboundMail, mail_id)
        if row is None:
            raise NotFound(f"no mail {mail_id}")
        if row.status != "held":
            raise BadRequest(f"mail {mail_id} was already decided ({row.status})")
        key, thrown = None, []
        if decision == "raise":
            process = desk_config.mail_in_process()
            if not process:
                raise BadRequest("no process is configured for mail (ITSMFLOW_MAILIN_PROCESS)")
            # The sender has no account, and reporters are accounts: the desk raises it on their behalf.
            data = {"summary": row.subject, "description": f"From {row.from_addr}:\n\n{row.body}",
                    "reporter": actor.username}
            outcome = instances.start_in(uow, actor, process, data)
            key, thrown = outcome.instance.business_key, outcome.message_ids
            _record(uow, row, "raised", key, actor.username)
        elif decision == "comment":
            if not business_key:
                raise BadRequest("name the record to add the mail to", fields={"business_key": "is required"})
            inst = instances.find(uow, actor, business_key.strip().upper())
            note = f"Mail from {row.from_addr}: {row.subject}\n\n{row.body}"
            conversation.add_comment_in(uow, actor, inst, note, "internal", "mail")
            key = inst.business_key
            _record(uow, row, "commented", key, actor.username)
        else:
            _record(uow, row, "rejected", None, actor.username)
        audit.append(uow, [NewEvent("mail.decided", actor.username, data={
            "mail_id": row.id, "from": row.from_addr, "decision": decision, "business_key": key})])
        uow.commit()
        view = mail_view(row)
    messages.deliver_pending(db, thrown)
    return view


def recipients_of(raw_to: list[str]) -> list[str]:
    return [addr.lower() for _, addr in getaddresses(raw_to) if addr]
