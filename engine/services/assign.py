"""Handing out work: claim several tasks at once, assign one or several to a named person, reassign.

Who may hand out work is the policy's `assign` act (admins and the service desk, the dispatchers of
ITSM.express). The person a task goes to must be able to work on it: hold one of its roles,
or, for a task of the requester lane, be one of the record's requesters. Every assignment is audited
(`task.assigned`, with who had it before) and the new holder is notified."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import HumanTask, ProcessInstance, User, UserRole
from engine.errors import BadRequest, DomainError, NotFound
from engine.services import audit, notify, policy, tasks
from engine.services.actors import Actor
from engine.services.audit import NewEvent

MAX_BULK = 200
EVERYONE = "requester"


def may_assign(actor: Actor) -> bool:
    return policy.may(actor, "assign")


def _ids(task_ids: Any) -> list[str]:
    if not isinstance(task_ids, list) or not task_ids or not all(isinstance(t, str) and t for t in task_ids):
        raise BadRequest("ids must be a non-empty list of task ids", fields={"ids": "a list of task ids"})
    if len(task_ids) > MAX_BULK:
        raise BadRequest(f"at most {MAX_BULK} tasks at once", fields={"ids": f"more than {MAX_BULK}"})
    return list(dict.fromkeys(task_ids))


def _outcome(task_id: str, exc: DomainError | None, task: dict[str, Any] | None = None) -> dict[str, Any]:
    if exc is None:
        return {"id": task_id, "ok": True, "task": task}
    return {"id": task_id, "ok": False, "error": {"code": exc.code, "message": exc.message}}


def claim_many(db: Database, actor: Actor, task_ids: Any) -> list[dict[str, Any]]:
    """Each task claimed in its own transaction: one taken by a colleague meanwhile does not undo the others."""
    results = []
    for task_id in _ids(task_ids):
        try:
            results.append(_outcome(task_id, None, tasks.claim(db, actor, task_id)))
        except DomainError as exc:
            results.append(_outcome(task_id, exc))
    return results


def eligible(uow: UnitOfWork, task: HumanTask) -> list[str]:
    """The people who may be given this task."""
    roles = [r for r in json.loads(task.roles_json) if r != EVERYONE]
    people: set[str] = set()
    if roles:
        stmt = (select(User.username).join(UserRole, UserRole.user_id == User.id)
                .where(UserRole.role.in_(roles), User.active.is_(True)))
        people.update(uow.session.execute(stmt).scalars())
    if EVERYONE in json.loads(task.roles_json):
        inst = uow.session.get(ProcessInstance, task.instance_id)
        if inst is not None:
            people.update(notify.requesters_of(uow, inst))
    return sorted(people)


def assign_in(uow: UnitOfWork, actor: Actor, task_id: str, username: Any) -> HumanTask:
    policy.require(actor, "assign")
    if not isinstance(username, str) or not username.strip():
        raise BadRequest("name the person to assign to", fields={"assignee": "is required"})
    username = username.strip()
    task = uow.session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"no open task {task_id} (it may have been completed)")
    if uow.session.execute(select(User.id).where(User.username == username, User.active.is_(True))).first() is None:
        raise BadRequest(f"no active user {username}", fields={"assignee": "is not a user"})
    if username not in eligible(uow, task):
        roles = ", ".join(json.loads(task.roles_json))
        raise BadRequest(f"{username} cannot work on “{task.name}” (it is for {roles})",
                         fields={"assignee": "does not hold the task's role"})
    before = task.assignee
    if before == username:
        return task
    task.assignee = username
    uow.session.flush()
    audit.append(uow, [NewEvent("task.assigned", actor.username, task.instance_id, task.element_id, task.name,
                                {"task_id": task.id, "assignee": username, "previous": before})])
    inst = uow.session.get(ProcessInstance, task.instance_id)
    if inst is not None:
        notify.task_assigned(uow, inst, task, actor.username)
    return task


def assign(db: Database, actor: Actor, task_id: str, username: Any) -> dict[str, Any]:
    with unit_of_work(db) as uow:
        task = assign_in(uow, actor, task_id, username)
        uow.commit()
        return tasks.task_summary(task)


def assign_many(db: Database, actor: Actor, task_ids: Any, username: Any) -> list[dict[str, Any]]:
    policy.require(actor, "assign")
    results = []
    for task_id in _ids(task_ids):
        try:
            results.append(_outcome(task_id, None, assign(db, actor, task_id, username)))
        except DomainError as exc:
            results.append(_outcome(task_id, exc))
    return results


def candidates(db: Database, actor: Actor, task_id: str) -> list[str]:
    policy.require(actor, "assign")
    with unit_of_work(db, readonly=True) as uow:
        task = uow.session.get(HumanTask, task_id)
        if task is None:
            raise NotFound(f"no open task {task_id}")
        return eligible(uow, task)
