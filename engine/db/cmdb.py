"""Tables of the lean CMDB and the change calendar: configuration items with the services they serve and their
relations, the CIs each record links, the change windows records declare, and declared blackout periods.

record_ci and record_window are indexes of record data, kept in step with each record after every step (like
record_party): the record's own data stays the truth; these rows let the calendar and the conflict check ask
SQL instead of reading every record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.models import Base, UtcDateTime


class ConfigItem(Base):
    __tablename__ = "config_item"
    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(40), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Exactly one of the two, as for services.
    owner_user: Mapped[str | None] = mapped_column(String(80), nullable=True)
    owner_role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CiService(Base):
    """A CI serves a service (a service has many CIs; a CI may serve several)."""

    __tablename__ = "ci_service"
    ci_id: Mapped[str] = mapped_column(ForeignKey("config_item.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("service.id"), primary_key=True, index=True)


class CiRelation(Base):
    """`ci_id` depends on / runs on `target_id`."""

    __tablename__ = "ci_relation"
    ci_id: Mapped[str] = mapped_column(ForeignKey("config_item.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("config_item.id"), primary_key=True, index=True)


class RecordCi(Base):
    """A record (incident, problem, change...) links a CI through its declared CI field."""

    __tablename__ = "record_ci"
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"),
                                             primary_key=True)
    ci_id: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)


class RecordService(Base):
    """The service a record names (its declared service field): the impact view finds open records by it."""

    __tablename__ = "record_service"
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"),
                                             primary_key=True)
    service_id: Mapped[str] = mapped_column(String(60), index=True)


class RecordWindow(Base):
    """The window a record (a change) declares it runs in, with what the calendar shows and filters by."""

    __tablename__ = "record_window"
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"),
                                             primary_key=True)
    business_key: Mapped[str] = mapped_column(String(40))
    process_key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200), default="")
    service_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20))  # the record's status: running, waiting, completed...

    __table_args__ = (
        Index("ix_record_window_span", "starts_at", "ends_at"),
        Index("ix_record_window_service_span", "service_id", "starts_at", "ends_at"),
    )


class Blackout(Base):
    """A period in which no change may run: for every service (service_id NULL) or one."""

    __tablename__ = "blackout"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    service_id: Mapped[str | None] = mapped_column(ForeignKey("service.id"), nullable=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CalendarFeedToken(Base):
    """A person's secret for the change calendar's iCalendar feed (`calendar.ics?token=`): calendar clients send
    neither a session nor a bearer header. Only its SHA-256 is kept; it reads the feed and nothing else, as the
    person it belongs to with the roles they hold when the feed is fetched."""

    __tablename__ = "calendar_feed_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
