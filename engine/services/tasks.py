"""The inbox and the work on human tasks: list, get, claim, unclaim, complete."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Select, or_, select, update

from engine import clock
from engine.db.database import Database, UnitOfWork, rowcount, unit_of_work
from engine.db.models import HumanTask, ProcessInstance
from engine.db.rows import TaskRow
from engine.diagram.forms import validate_submission
from engine.errors import BadRequest, Conflict, NotFound, ValidationFailed
from engine.services import (
    declared,
    facts,
    impact,
    inbox,
    knowledge,
    messages,
    policy,
    specs,
    step_tasks,
    stepping,
    users,
)
from engine.services.actors import Actor
from engine.services.audit import SECRET_MASK, NewEvent

SCOPES = policy.TABS


def task_summary(t: TaskRow) -> dict[str, Any]:
    return {
        "id": t.id, "instance_id": t.instance_id, "business_key": t.business_key, "process": t.process_key,
        "element_id": t.element_id, "name": t.name, "lane": t.lane, "roles": json.loads(t.roles_json),
        "assignee": t.assignee, "priority": t.priority, "approval": t.approval,
        "created_at": t.created_at.isoformat(), "due_at": t.due_at.isoformat() if t.due_at else None,
        "overdue": bool(t.due_at and t.due_at <= clock.now()),
    }


def inbox_query(uow: UnitOfWork, actor: Actor, scope: str = "available", process: str | None = None,
                q: str | None = None) -> Select[Any]:
    """The open tasks of a scope (policy.task_scope) in GET /tasks' default order (the inbox's `due` sort:
    overdue and soonest due first, then priority, then oldest). The order is the due sort's own columns, so the
    inbox's expression index serves it and a page stops after its rows; an "overdue first" CASE on the clock
    matched no index and sorted every match (B2: 376 ms at 200,000 tasks)."""
    stmt = select(HumanTask).where(policy.task_scope(uow, actor, scope))
    if process:
        stmt = stmt.where(HumanTask.process_key == process)
    if q and q.strip():
        like = f"%{q.strip()}%"
        text_match = HumanTask.instance_id.in_(select(ProcessInstance.id).where(ProcessInstance.data_json.ilike(like)))
        stmt = stmt.where(or_(HumanTask.business_key.ilike(like), HumanTask.name.ilike(like), text_match))
    return stmt.order_by(*inbox.sort_columns(uow, "due"))


def list_tasks(uow: UnitOfWork, actor: Actor, scope: str = "available", process: str | None = None,
               limit: int = 50, q: str | None = None) -> list[HumanTask]:
    return list(uow.session.execute(inbox_query(uow, actor, scope, process, q).limit(limit)).scalars())


def _load(uow: UnitOfWork, task_id: str) -> HumanTask:
    task = uow.session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"no open task {task_id} (it may have been completed)")
    return task


def get(uow: UnitOfWork, actor: Actor, task_id: str) -> dict[str, Any]:
    task = _load(uow, task_id)
    policy.check_see_task(uow, actor, task)
    inst = uow.session.get(ProcessInstance, task.instance_id)
    assert inst is not None
    lv = specs.loaded(uow, inst.process_version_id)
    el = lv.meta.elements.get(task.element_id)
    form = [f.to_dict() for f in el.form] if el else []
    data = json.loads(inst.data_json)
    result = {**task_summary(task), "form": [_form_view(f) for f in form], "data": data,
              "documentation": el.properties.get("instructions", "") if el else ""}
    if el is not None and knowledge.declared(el):
        result["knowledge"] = knowledge.for_task(uow, actor, el, data, inst.id)
    shows_impact = el is not None and el.properties.get("show_impact", "").strip().lower() == "true"
    result["impact"] = impact.impact_of(uow, actor, inst, data) if shows_impact else None
    return result


def first_workable(db: Database, actor: Actor, task_ids: list[str]) -> str | None:
    """The first of these tasks the actor may complete now (a page follows on to it)."""
    with unit_of_work(db, readonly=True) as uow:
        for task_id in task_ids:
            task = uow.session.get(HumanTask, task_id)
            if task is not None and policy.task_actions(uow, actor, task)["may_work"]:
                return task_id
    return None


def _form_view(f: dict[str, Any]) -> dict[str, Any]:
    return {"id": f["id"], "label": f["label"], "type": f["type"], "required": f["required"],
            "readonly": f["readonly"], "options": f["options"], "default": f["default"],
            "min": f["min"], "max": f["max"], "minlength": f["minlength"], "maxlength": f["maxlength"]}


def claim(db: Database, actor: Actor, task_id: str, reason: str | None = None) -> dict[str, Any]:
    """reason: required when an administrator takes an approval not offered to them (admin.claimed)."""
    with unit_of_work(db) as uow:
        task = uow.session.get(HumanTask, task_id)
        if task is not None:
            # Claims queue behind a completion of the same record (it holds the instance's lock): a claim that
            # loses the race finds the task gone and answers 409, never a claim on a finished task.
            stepping.lock_instance(uow, task.instance_id)
            task = uow.session.get(HumanTask, task_id, populate_existing=True)
        if task is None:
            raise Conflict("the task is no longer ready (completed, withdrawn or unknown)", task_id=task_id)
        policy.check_claim(uow, actor, task)
        if task.assignee == actor.username:
            return task_summary(task)
        override = policy.is_admin_override(uow, actor, task)
        if override and not (isinstance(reason, str) and reason.strip()):
            raise BadRequest("an administrator taking an approval that is not offered to them must give a reason",
                             fields={"reason": "is required"})
        result = uow.session.execute(
            update(HumanTask).where(HumanTask.id == task_id, HumanTask.assignee.is_(None))
            .values(assignee=actor.username).execution_options(synchronize_session=False))
        if rowcount(result) != 1:
            raise Conflict(f"task is held by {task.assignee}")
        from engine.services import audit

        events = [NewEvent("task.claimed", actor.username, task.instance_id, task.element_id, task.name,
                           {"task_id": task_id})]
        if override:
            events.append(NewEvent("admin.claimed", actor.username, task.instance_id, task.element_id, task.name,
                                   {"task_id": task_id, "reason": (reason or "").strip(), "approval": True}))
        audit.append(uow, events)
        uow.commit()
        uow.session.refresh(task)
        return task_summary(task)


def unclaim(db: Database, actor: Actor, task_id: str) -> dict[str, Any]:
    with unit_of_work(db) as uow:
        task = _load(uow, task_id)
        if not policy.may_unclaim(actor, task):
            raise Conflict("you do not hold this task" if task.assignee else "the task is not claimed")
        task.assignee = None
        from engine.services import audit

        audit.append(uow, [NewEvent("task.unclaimed", actor.username, task.instance_id, task.element_id,
                                    task.name, {"task_id": task_id})])
        uow.commit()
        return task_summary(task)


def complete(db: Database, actor: Actor, task_id: str, submitted: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(submitted, dict):
        raise BadRequest("data must be an object")
    with unit_of_work(db) as uow:
        # The instance is locked first (found through the task) and the task read after: a claim or completion
        # committed while we waited for the lock is what the checks below see, with one read of the task.
        inst = stepping.lock_instance_of_task(uow, task_id)
        open_before = {} if inst is None else step_tasks.open_tasks(uow, inst.id)  # the step's sync reuses them
        task = open_before.get(task_id)
        if inst is None or task is None:
            # Task ids are random: a completion for one that is gone is almost always a second click or a
            # colleague who was faster, so this is the "no longer ready" conflict, not a plain 404.
            raise Conflict("the task is no longer ready (completed, withdrawn or unknown)", task_id=task_id)
        policy.check_complete(uow, actor, task)
        lv = specs.loaded(uow, inst.process_version_id)
        el = lv.meta.elements.get(task.element_id)
        fields = el.form if el else []
        record = json.loads(inst.data_json)
        decl = declared.of_version(uow, inst.process_version_id)
        values, errors = validate_submission(fields, submitted, record)
        errors.update({k: "is decided by the server from the facts; a form may not give it"
                       for k in submitted if k in decl.server_fields})
        # A key the task's form does not declare would be dropped unseen, so whoever sent it would believe it
        # counted (an "urgent" tick that no longer decides anything): it is refused by name instead.
        declared_ids = {f.id for f in fields}
        errors.update({k: f"is not a field of {task.name!r} (fields: {', '.join(sorted(declared_ids)) or 'none'})"
                       for k in submitted if k not in declared_ids and k not in errors})
        if errors:
            raise ValidationFailed("some fields are not valid", fields=errors)
        users.check_accounts(uow, {f: values[f] for f in decl.party_fields if f in values})
        applied = facts.apply(uow, inst.process_key, decl, record, values, "complete")
        seen = inst.revision
        runner, lv = stepping.restore(uow, inst)
        try:
            log = runner.complete(task_id, applied.values)
        except LookupError:
            raise Conflict("the task is no longer ready") from None
        secret = {f.id for f in fields if f.secret}
        shown = {k: (SECRET_MASK if k in secret else v) for k, v in values.items()}
        events = [NewEvent("task.completed", actor.username, inst.id, task.element_id, task.name,
                           {"task_id": task_id, "form": shown, "approval": task.approval,
                            "roles": json.loads(task.roles_json), "actor_roles": sorted(actor.roles)}),
                  *applied.events(actor.username, inst.id, task.element_id, task.name)]
        outcome = stepping.save_step(uow, inst, runner, lv, log, actor.username, events, seen, open_before=open_before)
        uow.commit()
        from engine.services.instances import view

        result = {"instance": view(uow, outcome.instance, open_tasks=outcome.open_tasks),
                  "next_tasks": [task_summary(t) for t in outcome.new_tasks]}
    messages.deliver_pending(db, outcome.message_ids)
    return result

