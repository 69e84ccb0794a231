"""External tasks over the REST API: workers fetch and lock work by topic, then complete it, report a failure
(retries with a back-off; at 0 retries an incident), or throw a BPMN error. Every act is audited. Fetching is
safe when several workers ask at once: PostgreSQL skips rows another fetch holds (SKIP LOCKED); SQLite
serializes writers. A lock that expires returns the task to the queue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models_external import ExternalTask
from engine.errors import BadRequest, Conflict, NotFound
from engine.services import audit, messages, policy, specs, stepping
from engine.services.actors import Actor
from engine.services.audit import NewEvent
from engine.spiff import external

MAX_LOCK_MS = 24 * 3600 * 1000
MAX_TASKS = 100


@dataclass
class TopicRequest:
    name: str
    lock_ms: int


def _name(lv: specs.LoadedVersion, element_id: str) -> str | None:
    el = lv.meta.elements.get(element_id)
    return el.name if el else None


def view(row: ExternalTask, now: datetime | None = None) -> dict[str, Any]:
    now = now or clock.now()
    locked = row.lock_expires_at is not None and row.lock_expires_at > now
    return {"id": row.id, "topic": row.topic, "process": row.process_key, "business_key": row.business_key,
            "instance_id": row.instance_id, "element_id": row.element_id, "variables": json.loads(row.variables_json),
            "worker_id": row.worker_id if locked else None,
            "lock_expires_at": row.lock_expires_at.isoformat() if locked and row.lock_expires_at else None,
            "retries": row.retries, "retry_at": row.retry_at.isoformat() if row.retry_at else None,
            "error_message": row.error_message, "incident": row.retries == 0}


def parse_topics(raw: Any) -> list[TopicRequest]:
    if not isinstance(raw, list) or not raw:
        raise BadRequest("topics must be a non-empty list", fields={"topics": "a list of {topic_name, lock_duration}"})
    topics = []
    for item in raw:
        name = item.get("topic_name") if isinstance(item, dict) else None
        lock = item.get("lock_duration") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise BadRequest("each topic needs a topic_name", fields={"topics": "topic_name missing"})
        if not isinstance(lock, int) or isinstance(lock, bool) or not 0 < lock <= MAX_LOCK_MS:
            raise BadRequest(f"lock_duration of {name} must be milliseconds between 1 and {MAX_LOCK_MS}",
                             fields={"topics": "lock_duration out of range"})
        topics.append(TopicRequest(name.strip(), lock))
    return topics


def fetch_and_lock(db: Database, actor: Actor, worker_id: Any, topics: list[TopicRequest],
                   max_tasks: int) -> list[dict[str, Any]]:
    policy.require(actor, "external_tasks")
    _worker(worker_id)
    if not isinstance(max_tasks, int) or isinstance(max_tasks, bool) or not 0 < max_tasks <= MAX_TASKS:
        raise BadRequest(f"max_tasks must be between 1 and {MAX_TASKS}", fields={"max_tasks": "out of range"})
    lock_for = {t.name: t.lock_ms for t in topics}
    with unit_of_work(db) as uow:
        now = clock.now()
        stmt = (select(ExternalTask)
                .where(ExternalTask.topic.in_(lock_for),
                       or_(ExternalTask.lock_expires_at.is_(None), ExternalTask.lock_expires_at <= now),
                       or_(ExternalTask.retries.is_(None), ExternalTask.retries > 0),
                       or_(ExternalTask.retry_at.is_(None), ExternalTask.retry_at <= now))
                .order_by(ExternalTask.created_at, ExternalTask.id).limit(max_tasks))
        if uow.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True)  # a concurrent fetch takes other rows, never waits
        rows = list(uow.session.execute(stmt).scalars())
        events = []
        for row in rows:
            row.worker_id = worker_id
            row.lock_expires_at = now + timedelta(milliseconds=lock_for[row.topic])
            events.append(NewEvent("external_task.locked", actor.username, row.instance_id, row.element_id, None,
                                   {"task_id": row.id, "topic": row.topic, "worker_id": worker_id,
                                    "lock_expires_at": row.lock_expires_at.isoformat()}))
        uow.session.flush()
        result = [view(row, now) for row in rows]
        audit.append(uow, events)
        uow.commit()
    return result


def _worker(worker_id: Any) -> str:
    if not isinstance(worker_id, str) or not worker_id.strip() or len(worker_id) > 200:
        raise BadRequest("worker_id must be a non-empty text of at most 200 characters",
                         fields={"worker_id": "required"})
    return worker_id


def _held(uow: UnitOfWork, task_id: str, worker_id: str) -> ExternalTask:
    """The task, locked by this worker (an expired lock still counts until another worker takes the task)."""
    row = uow.session.get(ExternalTask, task_id)
    if row is None:
        raise NotFound(f"no external task {task_id} (completed, cancelled or unknown)")
    if row.worker_id != worker_id:
        raise Conflict(f"external task {task_id} is not locked by worker {worker_id!r}; fetch it first",
                       task_id=task_id)
    return row


def _variables(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and k and not k.startswith("_") for k in raw):
        raise BadRequest("variables must be an object of names to values (names not starting with _)",
                         fields={"variables": "not an object"})
    return raw


def complete(db: Database, actor: Actor, task_id: str, worker_id: Any, variables: Any) -> dict[str, Any]:
    policy.require(actor, "external_tasks")
    values = _variables(variables)
    with unit_of_work(db) as uow:
        row = _held(uow, task_id, _worker(worker_id))
        inst = stepping.lock_instance(uow, row.instance_id)
        seen = inst.revision
        runner, lv = stepping.restore(uow, inst)
        try:
            log = external.complete(runner, task_id, values)
        except LookupError:
            raise Conflict(f"external task {task_id} is no longer waiting") from None
        events = [NewEvent("external_task.completed", actor.username, inst.id, row.element_id,
                           _name(lv, row.element_id), {"task_id": task_id, "topic": row.topic,
                                                       "worker_id": row.worker_id, "variables": values})]
        outcome = stepping.save_step(uow, inst, runner, lv, log, actor.username, events, seen)
        uow.commit()
        result = {"business_key": outcome.instance.business_key, "status": outcome.instance.status}
    messages.deliver_pending(db, outcome.message_ids)
    return result


def _int(value: Any, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}", fields={name: "out of range"})
    return value


def failure(db: Database, actor: Actor, task_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The worker could not do it: `retries` left (0: an incident, fetched no more until retries are set) and
    `retry_timeout` milliseconds before it may be fetched again."""
    policy.require(actor, "external_tasks")
    worker_id = _worker(body.get("worker_id"))
    retries = _int(body.get("retries"), "retries", 0, 1000)
    timeout = _int(body.get("retry_timeout", 0), "retry_timeout", 0, MAX_LOCK_MS)
    message = str(body.get("error_message") or "")[:2000]
    with unit_of_work(db) as uow:
        row = _held(uow, task_id, worker_id)
        now = clock.now()
        row.retries, row.retry_at = retries, now + timedelta(milliseconds=timeout)
        row.error_message, row.error_details = message, str(body.get("error_details") or "")[:20000] or None
        row.worker_id, row.lock_expires_at = None, None
        kind = "external_task.incident" if retries == 0 else "external_task.failed"
        audit.append(uow, [NewEvent(kind, actor.username, row.instance_id, row.element_id, None,
                                    {"task_id": task_id, "topic": row.topic, "worker_id": worker_id,
                                     "retries": retries, "retry_timeout": timeout, "error_message": message})])
        uow.session.flush()
        result = view(row, now)
        uow.commit()
    return result


def set_retries(db: Database, actor: Actor, task_id: str, retries: Any) -> dict[str, Any]:
    """An administrator resolves an incident (or changes the retries left)."""
    policy.require(actor, "retry")
    count = _int(retries, "retries", 0, 1000)
    with unit_of_work(db) as uow:
        row = uow.session.get(ExternalTask, task_id)
        if row is None:
            raise NotFound(f"no external task {task_id}")
        row.retries, row.retry_at = count, None
        audit.append(uow, [NewEvent("external_task.retries_set", actor.username, row.instance_id, row.element_id,
                                    None, {"task_id": task_id, "retries": count})])
        uow.session.flush()
        result = view(row)
        uow.commit()
    return result


def bpmn_error(db: Database, actor: Actor, task_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The worker reports a business error: the task's error boundary event with that code takes over. With no
    such event the task becomes an incident (nothing in the diagram handles it)."""
    policy.require(actor, "external_tasks")
    worker_id = _worker(body.get("worker_id"))
    code = body.get("error_code")
    if not isinstance(code, str) or not code.strip():
        raise BadRequest("error_code is required", fields={"error_code": "required"})
    values = _variables(body.get("variables"))
    message = str(body.get("error_message") or "")[:2000]
    with unit_of_work(db) as uow:
        row = _held(uow, task_id, worker_id)
        inst = stepping.lock_instance(uow, row.instance_id)
        seen = inst.revision
        runner, lv = stepping.restore(uow, inst)
        data = {"task_id": task_id, "topic": row.topic, "worker_id": worker_id, "error_code": code,
                "error_message": message, "variables": values}
        try:
            caught = external.catches_error(runner, task_id, code)
        except LookupError:
            raise Conflict(f"external task {task_id} is no longer waiting") from None
        if not caught:
            row.retries, row.worker_id, row.lock_expires_at = 0, None, None
            row.error_message = f"BPMN error {code} is not caught by any error boundary event: {message}"[:2000]
            audit.append(uow, [NewEvent("external_task.incident", actor.username, inst.id, row.element_id,
                                        _name(lv, row.element_id), data)])
            uow.session.flush()
            result = {"caught": False, "business_key": inst.business_key, "status": inst.status,
                      "task": view(row)}
            uow.commit()
            return result
        log = external.throw_error(runner, task_id, code, values)
        events = [NewEvent("external_task.bpmn_error", actor.username, inst.id, row.element_id,
                           _name(lv, row.element_id), data)]
        outcome = stepping.save_step(uow, inst, runner, lv, log, actor.username, events, seen)
        uow.commit()
        result = {"caught": True, "business_key": outcome.instance.business_key, "status": outcome.instance.status}
    messages.deliver_pending(db, outcome.message_ids)
    return result


def list_tasks(db: Database, actor: Actor, topic: str | None = None, incidents: bool = False) -> list[dict[str, Any]]:
    policy.require(actor, "external_tasks_read")
    with unit_of_work(db, readonly=True) as uow:
        stmt = select(ExternalTask).order_by(ExternalTask.created_at, ExternalTask.id).limit(500)
        if topic:
            stmt = stmt.where(ExternalTask.topic == topic)
        if incidents:
            stmt = stmt.where(ExternalTask.retries == 0)
        now = clock.now()
        return [view(row, now) for row in uow.session.execute(stmt).scalars()]
