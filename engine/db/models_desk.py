"""Tables of the service desk's everyday tools: the conversation on a record (comments, attachments), the
notifications (in the app and the mail outbox, preferences, templates, digests) and mail received."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.models import Base, UtcDateTime


class RecordComment(Base):
    """A comment on a record: `public` (the requester reads it) or `internal` (a work note for staff)."""

    __tablename__ = "record_comment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10), default="web")  # web / api / mail
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AttachmentBlob(Base):
    """File contents, addressed by their SHA-256: the same file attached twice is stored once."""

    __tablename__ = "attachment_blob"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class RecordAttachment(Base):
    __tablename__ = "record_attachment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(ForeignKey("attachment_blob.sha256"))
    visibility: Mapped[str] = mapped_column(String(10))
    uploaded_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Notification(Base):
    """What a person is told, in the app."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user", "username", "read_at", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    business_key: Mapped[str | None] = mapped_column(String(40), nullable=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class MailOutbox(Base):
    """Mail to send: written in the transaction of the event, sent later by the worker with retries."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    notification_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(12))  # pending / sent / failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class NotificationPreference(Base):
    """A person's choice per kind; no row means both channels on."""

    __tablename__ = "notification_preference"
    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)


class NotificationTemplate(Base):
    """An organisation's wording of a kind; no row means the shipped default."""

    __tablename__ = "notification_template"
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NoticeMark(Base):
    """An event that was told once and must not be told again (an SLA warning seen by every sweep)."""

    __tablename__ = "notice_mark"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class DigestMark(Base):
    """Up to when a person's role digest has told them about new work."""

    __tablename__ = "digest_mark"
    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    until: Mapped[datetime] = mapped_column(UtcDateTime)


class InboundMail(Base):
    """Mail received for the service desk. Held ones (unknown senders) wait for the desk's decision."""

    __tablename__ = "inbound_mail"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(300), default="")
    from_addr: Mapped[str] = mapped_column(String(320))
    to_addr: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), index=True)  # held / raised / commented / rejected
    business_key: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
