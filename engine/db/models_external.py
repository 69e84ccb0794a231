"""External tasks: service tasks waiting for a worker of their topic (Camunda's external task pattern)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.models import Base, UtcDateTime


class ExternalTask(Base):
    """One started service task. Its id is the engine task's id; the row goes when the task completes or is
    cancelled. Fetchable when unlocked (or the lock expired), retries are not 0 and the back-off has passed."""

    __tablename__ = "external_task"
    __table_args__ = (Index("ix_external_task_fetch", "topic", "lock_expires_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    process_key: Mapped[str] = mapped_column(String(200))
    business_key: Mapped[str] = mapped_column(String(40))
    element_id: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    variables_json: Mapped[str] = mapped_column(Text, default="{}")  # the task's data when it started
    worker_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lock_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    retries: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: never failed; 0: an incident
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_details: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
