"""Notifications an element of a diagram declares on itself, sent when the engine passes it, for example the
stakeholder updates of a major incident: each time its update timer fires, the path reaches an end event that
declares

  notification      = stakeholder_update
  notify_fields     = major_incident_manager, stakeholders   record fields naming people (user names)
  notify_requesters = true                                    and the record's own people

The update carries the record's latest public comment, so the people leading the work tell everyone at once."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import func, select

from engine.db.database import UnitOfWork
from engine.db.models import AuditEvent
from engine.db.models_desk import RecordComment
from engine.db.rows import InstanceRow
from engine.diagram.metadata import ElementMeta
from engine.services import notify

KINDS = ("stakeholder_update",)


def _people(uow: UnitOfWork, inst: InstanceRow, el: ElementMeta) -> list[str]:
    data = json.loads(inst.data_json or "{}")
    named: list[str] = []
    for field in (f.strip() for f in el.properties.get("notify_fields", "").split(",") if f.strip()):
        value = data.get(field)
        if isinstance(value, str):
            named += [n for n in re.split(r"[\s,;]+", value) if n]
    if el.properties.get("notify_requesters", "").lower() == "true":
        named += notify.requesters_of(uow, inst)
    return list(dict.fromkeys(named))


def _latest(uow: UnitOfWork, inst: InstanceRow) -> str:
    stmt = (select(RecordComment.body).where(RecordComment.instance_id == inst.id,
                                             RecordComment.visibility == "public")
            .order_by(RecordComment.id.desc()).limit(1))
    return uow.session.execute(stmt).scalar_one_or_none() or "No news since the last update: the work goes on."


def after_step(uow: UnitOfWork, inst: InstanceRow, trail: list[Any], elements: dict[str, ElementMeta]) -> None:
    """Tells what each element the step completed declares (several firings in one step: several updates)."""
    seen: dict[str, int] = {}
    for ev in trail:
        el = elements.get(ev.element_id or "") if ev.type == "element.completed" else None
        if el is not None and el.properties.get("notification", "") in KINDS:
            seen[el.id] = seen.get(el.id, 0) + 1
            passed(uow, inst, el, seen[el.id])


def passed(uow: UnitOfWork, inst: InstanceRow, el: ElementMeta, nth_in_step: int = 1) -> int:
    """The engine completed `el`; tell what it declares. Returns how many people were told."""
    kind = el.properties.get("notification", "")
    if kind not in KINDS:
        return 0
    data = json.loads(inst.data_json or "{}")
    earlier = uow.session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.instance_id == inst.id, AuditEvent.element_id == el.id,
        AuditEvent.type == "element.completed")).scalar_one()
    values: dict[str, Any] = {"business_key": inst.business_key, "summary": notify.record_summary(inst),
                              "number": earlier + nth_in_step, "latest": _latest(uow, inst),
                              "manager": data.get("major_incident_manager") or "—",
                              "priority": data.get("priority") or "—"}
    return notify.tell(uow, _people(uow, inst, el), kind, values, f"/records/{inst.business_key}")
