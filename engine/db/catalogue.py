"""Tables of the service catalogue: services and the working-time calendars they are served in.

Services and calendars are named by a short text id ("donor-crm", "office-hours") chosen when they are made
and never changed: records hold it in their service field, and decision tables an organisation edits match it,
so it has to read well and stay put."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.models import Base, UtcDateTime


class Calendar(Base):
    """Weekly hours in a time zone, closed on holidays: support hours, or a maintenance window."""

    __tablename__ = "calendar"
    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    time_zone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CalendarHours(Base):
    """One open span of a weekday, in minutes after local midnight (end at most 1440)."""

    __tablename__ = "calendar_hours"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calendar_id: Mapped[str] = mapped_column(ForeignKey("calendar.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)


class CalendarHoliday(Base):
    __tablename__ = "calendar_holiday"
    calendar_id: Mapped[str] = mapped_column(ForeignKey("calendar.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")


class Service(Base):
    __tablename__ = "service"
    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Exactly one of the two: a named person, or a role whose holders own the service together.
    owner_user: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    owner_role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    tier: Mapped[int] = mapped_column(Integer)
    donor_facing: Mapped[bool] = mapped_column(Boolean, default=False)
    support_calendar_id: Mapped[str | None] = mapped_column(ForeignKey("calendar.id"), nullable=True)
    maintenance_calendar_id: Mapped[str | None] = mapped_column(ForeignKey("calendar.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
