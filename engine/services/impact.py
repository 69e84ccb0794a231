"""A change's impact view: the CIs it touches (those it lists, and every CI that depends on or runs on one of
them, however far up), the services those serve and its own, the open records (incidents, problems) linking
one of those CIs or services, and the conflicts of its window. Shown on the approval tasks a diagram declares
(`show_impact`) and in the API."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import or_, select

from engine.db.catalogue import Service
from engine.db.cmdb import CiRelation, CiService, ConfigItem, RecordCi, RecordService, RecordWindow
from engine.db.database import UnitOfWork
from engine.db.models import ProcessInstance
from engine.errors import NotFound
from engine.services import conflict_check, declared, policy
from engine.services.actors import Actor
from engine.services.cmdb_facts import split

MAX_DEPTH = 6
OPEN = ("running", "waiting", "error")
MAX_RECORDS = 100


def _dependents(uow: UnitOfWork, listed: list[str]) -> dict[str, str]:
    """Every CI touched, with why: 'listed', or '<kind> <ci>' for one that relates to a touched CI."""
    why = {ci: "listed" for ci in listed}
    frontier = list(listed)
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        rows = uow.session.execute(select(CiRelation).where(CiRelation.target_id.in_(frontier))
                                   .order_by(CiRelation.ci_id)).scalars()
        frontier = []
        for rel in rows:
            if rel.ci_id not in why:
                why[rel.ci_id] = f"{rel.kind.replace('_', ' ')} {rel.target_id}"
                frontier.append(rel.ci_id)
    return why


def impact_of(uow: UnitOfWork, actor: Actor, inst: ProcessInstance, data: dict[str, Any]) -> dict[str, Any]:
    decl = declared.of_version(uow, inst.process_version_id)
    listed = split(data.get(decl.ci_field)) if decl.ci_field else []
    why = _dependents(uow, listed)
    items = {c.id: c for c in uow.session.execute(select(ConfigItem).where(ConfigItem.id.in_(list(why)))).scalars()}
    cis = [{"id": ci, "name": items[ci].name if ci in items else ci, "type": items[ci].type if ci in items else None,
            "why": reason} for ci, reason in why.items()]
    own = data.get(decl.service_field) if decl.service_field else None
    via: dict[str, str] = {}
    if isinstance(own, str) and own:
        via[own] = "the record's service"
    for ci_id, svc in uow.session.execute(select(CiService.ci_id, CiService.service_id).where(
            CiService.ci_id.in_(list(why))).order_by(CiService.service_id, CiService.ci_id)):
        via.setdefault(svc, f"served by {ci_id}")
    known = {s.id: s for s in uow.session.execute(select(Service).where(Service.id.in_(list(via)))).scalars()}
    services = [{"id": sid, "name": known[sid].name if sid in known else sid,
                 "tier": known[sid].tier if sid in known else None,
                 "donor_facing": known[sid].donor_facing if sid in known else None, "why": reason}
                for sid, reason in via.items()]
    return {"business_key": inst.business_key, "services": services, "cis": cis,
            "open_records": open_records(uow, actor, inst.id, list(why), list(via)),
            "window": _window(uow, inst)}


def open_records(uow: UnitOfWork, actor: Actor, own_id: int, cis: list[str],
                 services: list[str]) -> list[dict[str, Any]]:
    """Open records without a change window (incidents, problems, requests) on one of the CIs or services,
    among those the actor may see."""
    links = []
    if cis:
        links.append(ProcessInstance.id.in_(select(RecordCi.instance_id).where(RecordCi.ci_id.in_(cis))))
    if services:
        links.append(ProcessInstance.id.in_(select(RecordService.instance_id).where(
            RecordService.service_id.in_(services))))
    if not links:
        return []
    stmt = (select(ProcessInstance).where(ProcessInstance.id != own_id, ProcessInstance.status.in_(OPEN), or_(*links),
                                          policy.visible_records(uow, actor),
                                          ~ProcessInstance.id.in_(select(RecordWindow.instance_id)))
            .order_by(ProcessInstance.started_at.desc()).limit(MAX_RECORDS))
    found = []
    for inst in uow.session.execute(stmt).scalars():
        decl = declared.of_version(uow, inst.process_version_id)
        data = json.loads(inst.data_json or "{}")
        found.append({"business_key": inst.business_key, "process": inst.process_key, "status": inst.status,
                      "summary": decl.summary(data), "service": data.get(decl.service_field or ""),
                      "cis": split(data.get(decl.ci_field)) if decl.ci_field else [],
                      "priority": data.get(decl.priority_field) if decl.priority_field else None})
    return found


def _window(uow: UnitOfWork, inst: ProcessInstance) -> dict[str, Any] | None:
    w = uow.session.get(RecordWindow, inst.id)
    if w is None:
        return None
    return {"starts_at": w.starts_at.isoformat(), "ends_at": w.ends_at.isoformat(), "approved": w.approved,
            "conflicts": (conflict_check.for_instance(uow, inst.id) or {}).get("conflicts", [])}


def impact_for(uow: UnitOfWork, actor: Actor, business_key: str) -> dict[str, Any]:
    inst = uow.session.execute(select(ProcessInstance).where(
        ProcessInstance.business_key == business_key)).scalar_one_or_none()
    if inst is None:
        raise NotFound(f"no record {business_key}")
    policy.check_see_record(uow, actor, inst.id)
    return impact_of(uow, actor, inst, json.loads(inst.data_json or "{}"))
