"""After each step: the external tasks an instance waits in, as rows workers fetch (engine/services/external_tasks.py
serves them)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select

from engine.db.database import UnitOfWork
from engine.db.models import table_of
from engine.db.models_external import ExternalTask
from engine.db.rows import InstanceRow
from engine.services import specs
from engine.services.audit import NewEvent
from engine.spiff import external
from engine.spiff.runtime import Runner, json_default


def sync(uow: UnitOfWork, inst: InstanceRow, runner: Runner, lv: specs.LoadedVersion, actor: str,
         trail: list[NewEvent], now: datetime) -> None:
    """After a step: a row per external task now waiting, none for those that completed or were cancelled."""
    if not lv.has_external_tasks:
        return
    table = table_of(ExternalTask)
    current = external.waiting(runner)
    existing = set(uow.session.execute(select(table.c.id).where(table.c.instance_id == inst.id)).scalars())
    gone = existing - {w.task_id for w in current}
    if gone:
        uow.session.execute(delete(table).where(table.c.id.in_(gone)))
    rows: list[dict[str, Any]] = [{"id": w.task_id, "instance_id": inst.id, "process_key": inst.process_key,
             "business_key": inst.business_key, "element_id": w.element_id, "topic": w.topic,
             "variables_json": json.dumps(w.variables, default=json_default), "created_at": now}
            for w in current if w.task_id not in existing]
    if rows:
        uow.session.execute(insert(table), rows)
    for row in rows:
        trail.append(NewEvent("external_task.created", actor, inst.id, row["element_id"],
                              _name(lv, row["element_id"]), {"task_id": row["id"], "topic": row["topic"]}))


def _name(lv: specs.LoadedVersion, element_id: str) -> str | None:
    el = lv.meta.elements.get(element_id)
    return el.name if el else None
