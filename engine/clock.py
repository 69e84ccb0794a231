"""The one place the runtime reads the time, so tests can move it (time-machine patches datetime)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
