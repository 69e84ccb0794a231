"""What a requester sees of their records: every record they raised or are named on, with the records linked to
them (the triage record, the incident made from it, the change that fixes it), each one's status, what happens
next, and a public timeline; and what they may do: comment, attach, work their own tasks, withdraw.

Which records are theirs is engine/services/record_access.py."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import AuditEvent, HumanTask, ProcessInstance
from engine.errors import BadRequest, NotAllowed
from engine.services import conversation, notify, policy, record_access, stepping
from engine.services.actors import Actor
from engine.services.audit import NewEvent
from engine.spiff.runtime import StepLog

OPEN = ("running", "waiting", "error")
MAX_LINKED = 200
PUBLIC_EVENTS = ("instance.started", "task.ready", "task.completed", "comment.added", "attachment.added",
                 "instance.completed", "instance.cancelled", "instance.withdrawn", "task.assigned")


def _next_step(uow: UnitOfWork, actor: Actor, inst: ProcessInstance, open_tasks: list[HumanTask]) -> dict[str, Any]:
    if inst.status == "completed":
        return {"text": "Closed: nothing more will happen.", "yours": []}
    if inst.status == "cancelled":
        return {"text": "Withdrawn or cancelled.", "yours": []}
    if inst.status == "error":
        return {"text": "Held up by a problem on our side; the administrators are told.", "yours": []}
    yours = [t for t in open_tasks if t.assignee == actor.username or
             (t.assignee is None and "requester" in json.loads(t.roles_json)
              and actor.username in notify.requesters_of(uow, inst))]
    others = [t for t in open_tasks if t not in yours]
    parts = []
    for t in others:
        who = t.assignee or " or ".join(r.replace("_", " ") for r in json.loads(t.roles_json)) or "someone"
        parts.append(f"{t.name}: with {who}")
    if yours:
        text = "Waiting for you: " + ", ".join(t.name for t in yours)
        if parts:
            text += "; also " + "; ".join(parts)
    elif parts:
        text = "; ".join(parts)
    else:
        text = "Waiting for another record or a set time."
    return {"text": text, "yours": [{"id": t.id, "name": t.name, "due_at": t.due_at} for t in yours]}


def overview(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """The actor's records for their home page: newest first, each with status and what happens next."""
    records = record_access.own_records(uow, actor)
    ids = [i.id for i in records]
    tasks_by: dict[int, list[HumanTask]] = {}
    if ids:
        for t in uow.session.execute(select(HumanTask).where(HumanTask.instance_id.in_(ids))
                                     .order_by(HumanTask.created_at)).scalars():
            tasks_by.setdefault(t.instance_id, []).append(t)
    out = []
    for inst in records:
        data = json.loads(inst.data_json)
        out.append({"business_key": inst.business_key, "process": inst.process_key, "status": inst.status,
                    "summary": _summary(data, inst), "started_at": inst.started_at,
                    "ended_at": inst.ended_at, "origin_key": inst.origin_key,
                    "mine": actor.username in notify.requesters_of(uow, inst),
                    "next": _next_step(uow, actor, inst, tasks_by.get(inst.id, []))})
    return out


def _summary(data: dict[str, Any], inst: ProcessInstance) -> str:
    for key in ("summary", "title", "opportunity"):
        if isinstance(data.get(key), str) and data[key].strip():
            return data[key].strip()
    return inst.process_key


def _sentence(ev: AuditEvent, data: dict[str, Any]) -> str | None:
    name = ev.element_name or ev.element_id or "a step"
    if ev.type == "instance.started":
        return "Raised" + (f" from {data['origin_key']}" if data.get("origin_key") else "")
    if ev.type == "task.ready":
        return f"Waiting for “{name}”"
    if ev.type == "task.completed":
        return f"“{name}” done"
    if ev.type == "task.assigned":
        return f"“{name}” given to {data.get('assignee')}"
    if ev.type == "comment.added":
        return None if data.get("visibility") != "public" else f"Comment: {data.get('body', '')}"
    if ev.type == "attachment.added":
        return None if data.get("visibility") != "public" else f"File attached: {data.get('filename')}"
    if ev.type == "instance.completed":
        return "Closed"
    if ev.type == "instance.withdrawn":
        return f"Withdrawn: {data.get('reason', '')}"
    if ev.type == "instance.cancelled":
        return f"Cancelled: {data.get('reason', '')}"
    return None


def public_timeline(uow: UnitOfWork, inst: ProcessInstance) -> list[dict[str, Any]]:
    """The record's history as sentences a requester reads: no internal notes, no form values, no engine steps."""
    stmt = (select(AuditEvent).where(AuditEvent.instance_id == inst.id, AuditEvent.type.in_(PUBLIC_EVENTS))
            .order_by(AuditEvent.seq))
    out = []
    for ev in uow.session.execute(stmt).scalars():
        text = _sentence(ev, json.loads(ev.data_json))
        if text:
            out.append({"at": ev.at, "actor": ev.actor, "type": ev.type, "text": text})
    return out


def record(uow: UnitOfWork, actor: Actor, ref: str) -> dict[str, Any]:
    """One of the actor's records as their page shows it."""
    inst = record_access.find(uow, actor, ref)
    linked = [r for r in overview(uow, actor) if r["business_key"] != inst.business_key]
    tasks = list(uow.session.execute(select(HumanTask).where(HumanTask.instance_id == inst.id)).scalars())
    return {"business_key": inst.business_key, "process": inst.process_key, "status": inst.status,
            "summary": _summary(json.loads(inst.data_json), inst), "started_at": inst.started_at,
            "ended_at": inst.ended_at, "next": _next_step(uow, actor, inst, tasks),
            "timeline": public_timeline(uow, inst), "conversation": conversation.conversation(uow, actor, inst),
            "linked": [r for r in linked if _related(r, inst)], "may_withdraw": may_withdraw(uow, actor, inst)}


def _related(row: dict[str, Any], inst: ProcessInstance) -> bool:
    return row["origin_key"] == inst.business_key or row["business_key"] == inst.origin_key or bool(
        inst.origin_key and row["origin_key"] == inst.origin_key)


# ------------------------------------------------------------------------------------------------ withdraw

def may_withdraw(uow: UnitOfWork, actor: Actor, inst: ProcessInstance) -> bool:
    return policy.may_withdraw(uow, actor, inst.id, inst.status)


def withdraw(db: Database, actor: Actor, ref: str, reason: Any) -> dict[str, Any]:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise BadRequest("say why you withdraw it", fields={"reason": "is required"})
    if len(text) > 2000:
        raise BadRequest("the reason is at most 2,000 characters", fields={"reason": "is too long"})
    with unit_of_work(db) as uow:
        inst = stepping.lock_instance(uow, record_access.find(uow, actor, ref).id)
        if not may_withdraw(uow, actor, inst):
            if inst.status not in ("running", "waiting"):
                raise BadRequest(f"{inst.business_key} is {inst.status}: there is nothing to withdraw")
            raise NotAllowed("only the people a record is for may withdraw it")
        runner, lv = stepping.restore(uow, inst)
        runner.cancel()
        seen = inst.revision
        events = [NewEvent("instance.withdrawn", actor.username, inst.id, data={"reason": text})]
        outcome = stepping.save_step(uow, inst, runner, lv, StepLog(), actor.username, events, seen,
                                     final_status="cancelled")
        uow.commit()
        return {"business_key": outcome.instance.business_key, "status": outcome.instance.status}

