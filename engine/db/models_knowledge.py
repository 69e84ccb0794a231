"""Tables of the knowledge the service desk works from: problems and the incidents they explain, known errors
(symptom, workaround, root cause, fix), knowledge articles, and each time one of them was used on a record.
The full-text index over known errors and articles is not an ORM table: engine/services/knowledge_index.py
keeps it (SQLite FTS5 or a PostgreSQL tsvector column with a GIN index)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.models import Base, UtcDateTime


class Problem(Base):
    """The unknown cause of one or more incidents, investigated by the problem team."""

    __tablename__ = "problem"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    service: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20))  # open / known_error / closed
    owner: Mapped[str] = mapped_column(String(80))
    closure_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ProblemIncident(Base):
    """A record (by business key) the problem explains."""

    __tablename__ = "problem_incident"
    __table_args__ = (UniqueConstraint("problem_id", "business_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"), index=True)
    business_key: Mapped[str] = mapped_column(String(40), index=True)
    linked_by: Mapped[str] = mapped_column(String(80))
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class KnownError(Base):
    """What a problem yields: how the fault shows, how to get round it, why it happens and the change fixing it."""

    __tablename__ = "known_error"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"), unique=True)
    symptom: Mapped[str] = mapped_column(Text)
    workaround: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    fix_rfc: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # open / fixed
    fixed_in_release: Mapped[str | None] = mapped_column(String(40), nullable=True)
    fixed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    used_count: Mapped[int] = mapped_column(Integer, default=0)
    helped_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Article(Base):
    """A knowledge article (a standard answer, a how-to): written and reviewed by the service desk."""

    __tablename__ = "knowledge_article"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    service: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20))  # draft / reviewed / published / retired
    author: Mapped[str] = mapped_column(String(80))
    reviewer: Mapped[str | None] = mapped_column(String(80), nullable=True)
    publisher: Mapped[str | None] = mapped_column(String(80), nullable=True)
    used_count: Mapped[int] = mapped_column(Integer, default=0)
    helped_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class KnowledgeUse(Base):
    """A known error or article used on a record's task, and whether it helped."""

    __tablename__ = "knowledge_use"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_key: Mapped[str] = mapped_column(String(40), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    username: Mapped[str] = mapped_column(String(80))
    helped: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
