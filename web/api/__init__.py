"""The JSON API of ../shared/API.md, under /api/v1."""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__)

from web.api import (  # noqa: E402,F401
    accounts,
    admin,
    audit,
    catalogue,
    change_calendar,
    cmdb,
    conversation,
    external_tasks,
    governance_api,
    knowledge,
    lifecycle,
    messages,
    migrations,
    openapi,
    people,
    processes,
    proposals,
    records,
    sla_reports,
    tables,
    tasks,
    tokens,
)
