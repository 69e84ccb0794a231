"""Starting, reading, listing and cancelling instances."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, or_, select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import HumanTask, ProcessInstance
from engine.db.models_external import ExternalTask
from engine.db.rows import InstanceRow
from engine.errors import BadRequest, NotFound, ValidationFailed
from engine.services import audit, declared, deploy, facts, keys, messages, parties, policy, specs, stepping, users
from engine.services.actors import Actor
from engine.services.audit import NewEvent
from engine.services.decisions import make_decider
from engine.spiff.runtime import Runner, json_safe

MAX_DATA_BYTES = 256 * 1024


def start(db: Database, actor: Actor, process_key: str, data: dict[str, Any]) -> stepping.InstanceRecord:
    with unit_of_work(db) as uow:
        outcome = start_in(uow, actor, process_key, data)
        uow.commit()
    messages.deliver_pending(db, outcome.message_ids)
    return outcome.instance


def start_view(db: Database, actor: Actor, process_key: str, data: dict[str, Any]) -> dict[str, Any]:
    """Starts an instance and answers with it as the step wrote it, its open tasks included: no second
    transaction to read back what the step holds (what POST /instances returns)."""
    with unit_of_work(db) as uow:
        outcome = start_in(uow, actor, process_key, data)
        uow.commit()
        result = view(uow, outcome.instance, open_tasks=outcome.open_tasks)
    messages.deliver_pending(db, outcome.message_ids)
    return result


def start_in(uow: UnitOfWork, actor: Actor, process_key: str, data: dict[str, Any],
             origin_key: str | None = None, via: dict[str, Any] | None = None
             ) -> stepping.StepOutcome[stepping.InstanceRecord]:
    if not isinstance(data, dict):
        raise BadRequest("data must be an object")
    data = json_safe(data)
    if len(json.dumps(data)) > MAX_DATA_BYTES:
        raise BadRequest(f"data is larger than {MAX_DATA_BYTES} bytes")
    found = deploy.newest(uow, process_key)
    if found is None:
        raise NotFound(f"no process {process_key}")
    version_id, version = found
    lv = specs.loaded(uow, version_id)
    decl = declared.of_version(uow, version_id)
    if via is None:  # a message start is the diagram's own door: sent by a process, or posted by integrations
        policy.check_start(actor, decl)
        refused = decl.refused_start_fields(data)
        if refused:
            raise ValidationFailed(f"{len(refused)} start field(s) refused: {', '.join(sorted(refused))}",
                                   fields=refused)
        users.check_accounts(uow, {f: data.get(f) for f in decl.party_fields})
    applied = facts.apply(uow, process_key, decl, {}, data, "start", strict=via is None)
    data = applied.values
    if via is not None and isinstance(via.get("payload"), dict) and applied.facts:
        # A message start hands its payload to the diagram too: the facts win there as well.
        via = {**via, "payload": {**via["payload"], **applied.facts}}
    business_key = keys.next_key(uow, decl.prefix_for(data))
    data = {**data, "business_key": business_key, "started_by": actor.username}
    if origin_key:
        data["origin_key"] = origin_key
    if via is None:
        # A person raising a record is its requester and reporter unless the data names others.
        for name in decl.party_fields:
            if data.get(name) in (None, ""):
                data[name] = actor.username
    runner = Runner.start(lv.spec, lv.subprocess_specs, data, make_decider(uow))
    inst = stepping.InstanceRecord(
        id=0, process_key=process_key, process_version_id=version_id, version=version, business_key=business_key,
        status="running", state_json="{}", data_json="{}", error_json=None, revision=1, next_wakeup_at=None,
        origin_key=origin_key, case_key=parties.case_key_for(uow, business_key, origin_key),
        started_by=actor.username, started_at=clock.now(), ended_at=None,
    )
    log = runner.run()  # the instance row is written once, with this first state, by save_step
    start_message = via.get("message") if via else _message_start(lv, runner)
    if start_message and log.error is None:
        # A message start event waits for its message: hand it over in the same step. Started directly
        # (API, UI), a process that only has a message start gets its start data as that message.
        more = runner.deliver(start_message, via.get("payload", data) if via else data)
        log.completed += more.completed
        log.decisions += more.decisions
        log.thrown += more.thrown
        log.error = more.error
    started = NewEvent("instance.started", actor.username, inst.id, data={
        "process": process_key, "version": version, "business_key": business_key, "data": data,
        **({"origin_key": origin_key} if origin_key else {}), **({"via": via} if via else {}),
    })
    return stepping.save_step(uow, inst, runner, lv, log, actor.username,
                              [started, *applied.events(actor.username, inst.id)], None)


def _message_start(lv: specs.LoadedVersion, runner: Runner) -> str | None:
    for waiting in runner.waiting():
        el = lv.meta.elements.get(waiting.element_id)
        if el is not None and el.kind == "startEvent" and el.message:
            return el.message
    return None


def find(uow: UnitOfWork, actor: Actor, ref: str | int) -> ProcessInstance:
    stmt = select(ProcessInstance)
    if isinstance(ref, int) or str(ref).isdigit():
        stmt = stmt.where(ProcessInstance.id == int(ref))
    else:
        stmt = stmt.where(ProcessInstance.business_key == str(ref))
    inst = uow.session.execute(stmt).scalar_one_or_none()
    if inst is None:
        raise NotFound(f"no instance {ref}")
    policy.check_see_record(uow, actor, inst.id)
    return inst


_TASKS_OF = select(HumanTask).where(HumanTask.instance_id == bindparam("i")).order_by(HumanTask.created_at)


def tasks_of(uow: UnitOfWork, inst: InstanceRow) -> list[HumanTask]:
    return list(uow.session.execute(_TASKS_OF, {"i": inst.id}).scalars())


def related(uow: UnitOfWork, inst: ProcessInstance) -> list[dict[str, Any]]:
    """Instances this one started or was started by (origin keys, both ways)."""
    stmt = select(ProcessInstance).where(or_(
        ProcessInstance.origin_key == inst.business_key,
        ProcessInstance.business_key == (inst.origin_key or ""),
    ))
    rows = [r for r in uow.session.execute(stmt).scalars() if r.id != inst.id]
    data = json.loads(inst.data_json)
    return [{"id": r.id, "business_key": r.business_key, "process": r.process_key, "status": r.status,
             "relation": "origin" if r.business_key == inst.origin_key else "started"} for r in rows] + [
        {"business_key": k, "relation": "bundled"} for k in data.get("changes", []) if isinstance(k, str)]


def list_instances(uow: UnitOfWork, actor: Actor, process: str | None = None, status: str | None = None,
                   q: str | None = None, limit: int = 50, cursor: int | None = None) -> tuple[list, int | None]:
    stmt = select(ProcessInstance).where(policy.visible_records(uow, actor)).order_by(ProcessInstance.id.desc())
    if process:
        stmt = stmt.where(ProcessInstance.process_key == process)
    if status:
        stmt = stmt.where(ProcessInstance.status == status)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(ProcessInstance.business_key.ilike(like), ProcessInstance.data_json.ilike(like)))
    if cursor:
        stmt = stmt.where(ProcessInstance.id < cursor)
    rows = list(uow.session.execute(stmt.limit(limit + 1)).scalars())
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_cursor


def cancel(db: Database, actor: Actor, ref: str | int, reason: str) -> ProcessInstance:
    policy.require(actor, "cancel")
    if not reason or not reason.strip():
        raise BadRequest("a reason is required", fields={"reason": "is required"})
    with unit_of_work(db) as uow:
        inst = find(uow, actor, ref)
        inst = stepping.lock_instance(uow, inst.id)
        if inst.status in ("completed", "cancelled"):
            raise BadRequest(f"instance is already {inst.status}")
        runner, lv = stepping.restore(uow, inst)
        runner.cancel()
        seen = inst.revision
        events = [NewEvent("instance.cancelled", actor.username, inst.id, data={"reason": reason.strip()})]
        outcome = stepping.save_step(uow, inst, runner, lv, stepping.StepLog(), actor.username, events, seen,
                                     final_status="cancelled")
        inst = outcome.instance
        uow.commit()
        return inst


def retry(db: Database, actor: Actor, ref: str | int, reason: str) -> ProcessInstance:
    policy.require(actor, "retry")
    if not reason or not reason.strip():
        raise BadRequest("a reason is required", fields={"reason": "is required"})
    with unit_of_work(db) as uow:
        inst = stepping.lock_instance(uow, find(uow, actor, ref).id)
        if inst.status != "error":
            raise BadRequest("only an instance in error can be retried")
        runner, lv = stepping.restore(uow, inst)
        seen = inst.revision
        log = runner.retry()
        events = [NewEvent("instance.retried", actor.username, inst.id, data={"reason": reason.strip()})]
        outcome = stepping.save_step(uow, inst, runner, lv, log, actor.username, events, seen)
        uow.commit()
    messages.deliver_pending(db, outcome.message_ids)
    return outcome.instance


def path(uow: UnitOfWork, inst: ProcessInstance) -> dict[str, list[str]]:
    """Computed from the audit trail, not the live engine tree: works for finished and archived instances."""
    completed: list[str] = []
    flows: list[str] = []
    open_tasks: dict[str, str] = {}
    for ev in audit.instance_events(uow, inst.id):
        data = json.loads(ev.data_json)
        if ev.type in ("element.completed", "task.completed") and ev.element_id:
            completed.append(ev.element_id)
            if ev.type == "element.completed":
                flows.extend(data.get("flows") or ([data["flow"]] if data.get("flow") else []))
            open_tasks.pop(data.get("task_id", ""), None)
        elif ev.type == "task.ready":
            open_tasks[data["task_id"]] = ev.element_id or ""
            if data.get("flow"):
                flows.append(data["flow"])
        elif ev.type == "task.withdrawn":
            open_tasks.pop(data.get("task_id", ""), None)
    active = [] if inst.status in ("completed", "cancelled") else list(dict.fromkeys(open_tasks.values()))
    if inst.status not in ("completed", "cancelled"):
        for sub in messages.subscriptions_of(uow, inst.id):
            active.append(sub)
        waiting_for_workers = select(ExternalTask.element_id).where(ExternalTask.instance_id == inst.id)
        active.extend(e for e in dict.fromkeys(uow.session.execute(waiting_for_workers).scalars()) if e not in active)
    return {"completed": completed, "flows": flows, "active": active}


def view(uow: UnitOfWork, inst: InstanceRow, with_tasks: bool = True,
         open_tasks: list[Any] | None = None) -> dict[str, Any]:
    """open_tasks: the instance's open tasks when the caller already holds them (a step's outcome)."""
    from engine.services.tasks import task_summary

    result = {
        "id": inst.id, "business_key": inst.business_key, "process": inst.process_key, "version": inst.version,
        "status": inst.status, "data": json.loads(inst.data_json), "started_at": inst.started_at.isoformat(),
        "started_by": inst.started_by, "ended_at": inst.ended_at.isoformat() if inst.ended_at else None,
        "revision": inst.revision, "origin_key": inst.origin_key,
        "next_wakeup_at": inst.next_wakeup_at.isoformat() if inst.next_wakeup_at else None,
        "error": json.loads(inst.error_json) if inst.error_json else None,
    }
    if with_tasks:
        result["tasks"] = [task_summary(t) for t in (tasks_of(uow, inst) if open_tasks is None else open_tasks)]
    return result
