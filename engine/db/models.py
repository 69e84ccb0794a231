"""SQLAlchemy 2.0 typed models. JSON documents are stored as text so SQLite and PostgreSQL behave alike."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.schema import Table
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator):
    """Stores aware UTC datetimes; SQLite drops the zone, so it is put back on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime stored")
        # SQLite keeps the wall time and drops the offset: store every instant in UTC so it reads back the same.
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:

        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


def table_of(model: type[Base]) -> Table:
    """A mapped class's Table, for Core statements on hot paths (SQLAlchemy types `__table__` as any FROM)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Role(Base):
    __tablename__ = "role"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    description: Mapped[str] = mapped_column(String(200), default="")


class UserRole(Base):
    __tablename__ = "user_role"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(ForeignKey("role.name"), primary_key=True)


class ApiToken(Base):
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ProcessVersion(Base):
    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    spec_json: Mapped[str] = mapped_column(Text)
    meta_json: Mapped[str] = mapped_column(Text)
    deployed_by: Mapped[str] = mapped_column(String(80))
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # seed (bundled file, installed when absent), modeller, upload, api, cli, rollback, proposal
    origin: Mapped[str] = mapped_column(String(20), default="api", server_default="api")
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")


class DecisionVersion(Base):
    __tablename__ = "decision_version"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    dmn_xml: Mapped[str] = mapped_column(Text)
    tests_json: Mapped[str] = mapped_column(Text, default="[]")
    sha256: Mapped[str] = mapped_column(String(64))
    deployed_by: Mapped[str] = mapped_column(String(80))
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    origin: Mapped[str] = mapped_column(String(20), default="api", server_default="api")
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")


class SeedProposal(Base):
    """A bundled file that differs from everything deployed or offered before, while the process (or table)
    already has a version: offered to its owner for review instead of replacing their version."""

    __tablename__ = "seed_proposal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # process / decision
    key: Mapped[str] = mapped_column(String(100), index=True)
    source: Mapped[str] = mapped_column(String(500))  # the folder or file it was read from
    bpmn_xml: Mapped[str | None] = mapped_column(Text, nullable=True)
    bpmn_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    bpmn_new: Mapped[bool] = mapped_column(Boolean, default=False)  # False: only its tables are new
    files_json: Mapped[str] = mapped_column(Text, default="[]")  # [{name, xml, tests, sha256, new, decisions}]
    lanes_json: Mapped[str] = mapped_column(Text, default="{}")
    base_version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # in force when it was offered
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending / accepted / dismissed / superseded
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    result_json: Mapped[str] = mapped_column(Text, default="{}")  # versions an accept made


class ProcessDraft(Base):
    """An owner's edited diagram saved without deploying: one per process and author, replaced on each save."""

    __tablename__ = "process_draft"
    __table_args__ = (UniqueConstraint("key", "author"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    author: Mapped[str] = mapped_column(String(80))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    lanes_json: Mapped[str] = mapped_column(Text, default="{}")
    base_version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the version it was edited from
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    version: Mapped[int] = mapped_column(Integer)
    business_key: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    state_json: Mapped[str] = mapped_column(Text)
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    error_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # Optimistic lock: every UPDATE says WHERE revision = :seen; a stale writer gets StaleDataError.
    __mapper_args__ = {"version_id_col": revision}
    next_wakeup_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    origin_key: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    # The business key of the first record of its chain (origin keys followed back): linked records share it.
    case_key: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    started_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class HumanTask(Base):
    __tablename__ = "human_task"
    # The inbox ("available": unclaimed, most overdue first) walks this index in order and stops at the page.
    __table_args__ = (
        Index("ix_human_task_inbox", "due_at", "priority", "created_at",
              postgresql_where=text("assignee IS NULL"), sqlite_where=text("assignee IS NULL")),
        # The created and record sorts (migration inbox_20); the due and priority sorts have expression indexes.
        Index("ix_human_task_created", "created_at", "id"),
        Index("ix_human_task_record", "business_key", "id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    process_key: Mapped[str] = mapped_column(String(100))
    # The instance's version, copied: the inbox tally's triggers read only this row (a cascaded delete has no
    # instance left to ask), and the version decides the team a requester-lane task is also offered to.
    process_version_id: Mapped[int] = mapped_column(Integer)
    business_key: Mapped[str] = mapped_column(String(40))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(100), nullable=True)
    roles_json: Mapped[str] = mapped_column(Text, default="[]")
    assignee: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    approval: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[str | None] = mapped_column(String(4), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)


class RecordParty(Base):
    """The people a record is for, kept in step with its data: who started it and whom its declared requester
    and reporter fields name. Visibility and requester-lane tasks are SQL lookups here, never JSON scans."""

    __tablename__ = "record_party"
    __table_args__ = (Index("ix_record_party_user", "username", "relation"),)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    relation: Mapped[str] = mapped_column(String(20), primary_key=True)  # starter / requester / reporter
    case_key: Mapped[str] = mapped_column(String(40), index=True)


class TaskCandidate(Base):
    """One row per (task, role): the inbox query is an indexed lookup by role, never a JSON scan."""

    __tablename__ = "task_candidate"
    __table_args__ = (Index("ix_task_candidate_role", "role", "created_at"),)
    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InboxTally(Base):
    """Open tasks counted by what the inbox's exact totals ask of them (version, candidate roles as the task row
    lists them, priority, claimed or not). Database triggers on human_task insert a +1/-1 row per change in the
    changing transaction, so no writer waits on another's counter; the worker sums them up now and then
    (engine/services/inbox_tally.py). A total is the sum over a few hundred rows, not a count of tasks."""

    __tablename__ = "inbox_tally"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_version_id: Mapped[int] = mapped_column(Integer)
    process_key: Mapped[str] = mapped_column(String(100))
    roles_json: Mapped[str] = mapped_column(Text)
    priority: Mapped[str | None] = mapped_column(String(4), nullable=True)
    assigned: Mapped[bool] = mapped_column(Boolean)
    n: Mapped[int] = mapped_column(Integer)


class MessageSubscription(Base):
    __tablename__ = "message_subscription"
    __table_args__ = (Index("ix_subscription_route", "message_name", "correlation_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    message_name: Mapped[str] = mapped_column(String(200))
    correlation_key: Mapped[str] = mapped_column(String(40))
    element_id: Mapped[str] = mapped_column(String(200))


class Message(Base):
    """Every message sent, kept: pending and unrouted ones are retried by the worker with a growing pause, until
    their attempts run out and they are `dead` (a dead letter: an administrator redelivers or discards it)."""

    __tablename__ = "message"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    correlation_key: Mapped[str | None] = mapped_column(String(40), nullable=True)
    payload_json: Mapped[str] = mapped_column(Text, default="{}")
    sender_instance_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sent_by: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending / delivered / unrouted / dead / discarded
    delivered_to_json: Mapped[str] = mapped_column(Text, default="[]")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # NULL: at once
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)  # why the last attempt failed
    dead_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AuditEvent(Base):
    """Append-only and hash-chained per partition (chain, chain_seq: gapless within a chain). Events from before
    the partitions have chain NULL and form one global chain by seq. Nothing in the code updates or deletes."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_chain", "chain", "chain_seq", unique=True),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    chain: Mapped[int | None] = mapped_column(Integer, nullable=True)
    chain_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    instance_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(60))  # no index: every read by type has a narrower one (0021)
    element_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    element_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChain(Base):
    """The head of each partition's chain (position and hash of its last event). A step locks only its own
    chain's row, so steps of unrelated instances do not wait on one another."""

    __tablename__ = "audit_chain"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditAnchor(Base):
    """The checkpoint chain: every so often the heads of all chains, hash-chained in turn. A chain cut back
    together with its head row no longer reaches the position an anchor recorded."""

    __tablename__ = "audit_anchor"
    n: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    heads_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The head of the trail written before the partitions (events with chain NULL): it no longer moves. Its row
    lock now serializes only the writers of anchors."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """Head hashes written periodically; a truncated chain no longer reaches the last checkpoint."""

    __tablename__ = "audit_checkpoint"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeat"
    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    fired: Mapped[int] = mapped_column(Integer, default=0)


class Sequence(Base):
    """Business-key counters per prefix (INC, RFC, ...): portable across SQLite and PostgreSQL."""

    __tablename__ = "key_sequence"
    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
