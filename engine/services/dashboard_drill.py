"""The records behind a dashboard figure: the same computation as the figure (dashboard.dashboard collects the
ids as it counts), so a card or a bar always opens exactly the records it counted, and only those the person may
see."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from engine.db.database import UnitOfWork
from engine.db.models import ProcessInstance
from engine.errors import BadRequest
from engine.services import dashboard, policy
from engine.services.actors import Actor

MAX_ROWS = 500


def records_behind(uow: UnitOfWork, actor: Actor, period: dashboard.Period, figure: str) -> list[dict[str, Any]]:
    board = dashboard.dashboard(uow, actor, period)
    kind = figure.split(":", 1)[0]
    if kind not in ("priority", "opened", "closed", "respond", "resolve", "first_line", "reopened", "escalation",
                    "breakdown"):
        raise BadRequest(f"there is no figure {figure!r} on the dashboard", fields={"figure": "unknown"})
    ids = list(dict.fromkeys(board.records.get(figure, [])))[:MAX_ROWS]
    if not ids:
        return []
    stmt = (select(ProcessInstance).where(ProcessInstance.id.in_(ids), policy.visible_records(uow, actor))
            .order_by(ProcessInstance.id.desc()))
    rows = []
    for inst in uow.session.execute(stmt).scalars():
        data = json.loads(inst.data_json)
        summary = next((data[k] for k in ("summary", "title") if isinstance(data.get(k), str) and data[k]), "")
        rows.append({"business_key": inst.business_key, "process": inst.process_key, "status": inst.status,
                     "summary": summary, "started_at": inst.started_at, "ended_at": inst.ended_at})
    return rows
