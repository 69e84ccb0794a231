"""Separation of duties as a rule table: the relations a person has to a record, and the process's declared table
(`separation_of_duties`, a DMN decision) saying which relations keep them from approving. policy.py asks here at the
completion of every approval task; conformance asks the same question of completed approvals.

Relations, all about the person (holding two roles changes nothing):
    requester      they started the record, or it names them as requester or reporter
    assessor       they completed a task whose diagram element declares `duty = assessor`
    implementer    they completed a task whose diagram element declares `duty = implementer`
    routing_facts  they gave a value for one of the process's declared `routing_facts` (at the start or in a form)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.db.database import UnitOfWork
from engine.db.models import AuditEvent, ProcessInstance
from engine.services import declared, parties, specs
from engine.services.decisions import make_decider

RELATIONS = ("requester", "assessor", "implementer", "routing_facts")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""
    relation: str | None = None


def relations(uow: UnitOfWork, instance_id: int, username: str, before_seq: int | None = None) -> list[str]:
    """The relations `username` has to the record (from its parties and its trail, up to `before_seq`)."""
    inst = uow.session.get(ProcessInstance, instance_id)
    if inst is None:
        return []
    decl = declared.of_version(uow, inst.process_version_id)
    meta = specs.loaded(uow, inst.process_version_id).meta
    found: list[str] = []
    if username in parties.requesters(uow, instance_id):
        found.append("requester")
    stmt = select(AuditEvent).where(AuditEvent.instance_id == instance_id, AuditEvent.actor == username,
                                    AuditEvent.type.in_(("task.completed", "instance.started")))
    if before_seq is not None:
        stmt = stmt.where(AuditEvent.seq < before_seq)
    routing = set(decl.routing_facts)
    for event in uow.session.execute(stmt.order_by(AuditEvent.seq)).scalars():
        data: dict[str, Any] = json.loads(event.data_json or "{}")
        given = data.get("form") if event.type == "task.completed" else data.get("data")
        if event.type == "task.completed" and event.element_id in meta.elements:
            duty = meta.elements[event.element_id].properties.get("duty", "").strip()
            if duty in RELATIONS and duty not in found:
                found.append(duty)
        if isinstance(given, dict) and routing & set(given) and "routing_facts" not in found:
            found.append("routing_facts")
    return found


def judge(uow: UnitOfWork, instance_id: int, username: str, approval: str,
          before_seq: int | None = None) -> Verdict:
    """May `username` complete the approval task `approval` on the record? The process's table decides for each
    relation; a process that declares no table keeps the built-in rule: the requester may not approve."""
    inst = uow.session.get(ProcessInstance, instance_id)
    if inst is None:
        return Verdict(True)
    table = declared.of_version(uow, inst.process_version_id).separation_of_duties
    held = relations(uow, instance_id, username, before_seq)
    if table is None:
        if "requester" in held:
            return Verdict(False, "the requester may not approve their own record", "requester")
        return Verdict(True)
    decide = make_decider(uow)
    for relation in held:
        try:
            outputs, _ = decide(table, {"relation": relation, "approval": approval})
        except Exception as exc:  # noqa: BLE001 - a missing or broken table must refuse, never let through
            return Verdict(False, f"the separation-of-duties table {table} cannot be evaluated ({exc})", relation)
        if outputs.get("may_approve") is not True:
            return Verdict(False, str(outputs.get("reason") or f"{relation} may not approve"), relation)
    return Verdict(True)
