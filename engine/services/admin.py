"""Administrative acts on running work. Each needs the admin role and a reason, and each is an audit event
(admin.*) written in the same transaction as the change it records."""

from __future__ import annotations

import json
from typing import Any

from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import HumanTask, ProcessInstance
from engine.errors import BadRequest, Conflict, NotFound
from engine.services import audit, instances, policy, specs, stepping, users
from engine.services.actors import Actor
from engine.services.audit import SECRET_MASK, NewEvent
from engine.services.tasks import task_summary
from engine.spiff import runtime as spiff_runtime
from engine.spiff.runtime import json_safe

# The identity of a record is not data an administrator may rewrite.
PROTECTED_KEYS = ("business_key", "started_by", "origin_key")
# An errored instance is not edited here: save_step would clear its error status without a retry (see the
# note in docs/audit.md); fix it with a retry, or cancel it.
LIVE = ("running", "waiting")


def _require(actor: Actor, reason: str | None) -> str:
    policy.require(actor, "administer")
    if not isinstance(reason, str) or not reason.strip():
        raise BadRequest("a reason is required", fields={"reason": "is required"})
    return reason.strip()


def reassign_task(db: Database, actor: Actor, task_id: str, username: str, reason: str) -> dict[str, Any]:
    """Gives an open task to another user (who need not hold its role: that is what makes it an admin act,
    and conformance reports an approval done that way)."""
    why = _require(actor, reason)
    if not isinstance(username, str) or not username.strip():
        raise BadRequest("a user name is required", fields={"username": "is required"})
    target = users.actor_for(db, username.strip())
    with unit_of_work(db) as uow:
        task = uow.session.get(HumanTask, task_id)
        if task is None:
            raise NotFound(f"no open task {task_id} (it may have been completed)")
        stepping.lock_instance(uow, task.instance_id)  # not while someone completes it
        task = uow.session.get(HumanTask, task_id, populate_existing=True)
        if task is None:
            raise Conflict("the task is no longer open", task_id=task_id)
        roles = json.loads(task.roles_json)
        previous = task.assignee
        task.assignee = target.username
        audit.append(uow, [NewEvent("admin.task_reassigned", actor.username, task.instance_id, task.element_id,
                                    task.name, {"task_id": task_id, "from": previous, "to": target.username,
                                                "reason": why, "roles": roles,
                                                "to_holds_role": bool(set(roles) & target.roles)})])
        uow.commit()
        return task_summary(task)


def _secret_fields(lv: specs.LoadedVersion) -> set[str]:
    return {f.id for el in lv.meta.elements.values() for f in el.form if f.secret}


def edit_data(db: Database, actor: Actor, ref: str | int, changes: dict[str, Any], reason: str) -> ProcessInstance:
    """Sets keys of a live record's data, in the engine's state (the tasks the process continues from) and in
    the stored copy; the audit event holds the old and new value of every key that changed."""
    why = _require(actor, reason)
    if not isinstance(changes, dict) or not changes:
        raise BadRequest("data must be an object with the keys to change", fields={"data": "is required"})
    protected = sorted(k for k in changes if k in PROTECTED_KEYS)
    if protected:
        raise BadRequest(f"{', '.join(protected)} cannot be edited", fields={k: "cannot be edited" for k in protected})
    changes = json_safe(changes)
    if len(json.dumps(changes)) > instances.MAX_DATA_BYTES:
        raise BadRequest(f"data is larger than {instances.MAX_DATA_BYTES} bytes")
    with unit_of_work(db) as uow:
        inst = stepping.lock_instance(uow, instances.find(uow, actor, ref).id)
        outcome = _edit_in(uow, inst, actor, changes, why)
        uow.commit()
        return outcome


def _edit_in(uow: UnitOfWork, inst: ProcessInstance, actor: Actor, changes: dict[str, Any],
             reason: str) -> ProcessInstance:
    if inst.status not in LIVE:
        raise BadRequest(f"instance is {inst.status}: only running or waiting records are edited")
    seen = inst.revision
    runner, lv = stepping.restore(uow, inst)
    before = runner.data()
    changed = {k: v for k, v in changes.items() if k not in before or before[k] != v}
    if not changed:
        raise BadRequest("the data already holds these values")
    if not runner.update_data(changed):
        raise Conflict("the engine has no open task to carry the data")
    secret = _secret_fields(lv)
    shown = {k: {"old": SECRET_MASK if k in secret else before.get(k),
                 "new": SECRET_MASK if k in secret else v, "added": k not in before}
             for k, v in changed.items()}
    event = NewEvent("admin.data_edited", actor.username, inst.id, data={"reason": reason, "changes": shown})
    outcome = stepping.save_step(uow, inst, runner, lv, spiff_runtime.StepLog(), actor.username, [event], seen)
    return outcome.instance
