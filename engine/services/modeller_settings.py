"""What the organisation configures about diagrams brought from other modellers, read from the environment
when asked (so a test or worker started with other settings sees them)."""

from __future__ import annotations

import os

from engine.diagram.metadata import ROLES


def default_task_role() -> str | None:
    """ITSMFLOW_DEFAULT_TASK_ROLE: the role that gets tasks a diagram names nobody for (default service_desk);
    `none` refuses such diagrams instead."""
    value = os.environ.get("ITSMFLOW_DEFAULT_TASK_ROLE", "service_desk").strip()
    return value if value in ROLES else None
