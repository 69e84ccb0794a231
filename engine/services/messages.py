"""Messages between instances, routed in SQL. Every message is stored first (an outbox): delivered ones are
marked, those nobody waits for are kept as `unrouted` and retried by the worker with a growing pause; when the
attempts run out they are dead letters (engine/services/message_retry.py, dead_letters.py), never dropped."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import Message, MessageSubscription, ProcessInstance
from engine.errors import BadRequest, NotFound
from engine.services import audit, deploy, message_retry, policy, specs, step_guard, stepping
from engine.services.actors import Actor
from engine.services.audit import NewEvent

log = logging.getLogger(__name__)

RESERVED = ("business_key", "started_by", "origin_key")
THROW_KINDS = ("intermediateThrowEvent", "endEvent", "sendTask")


@dataclass
class Routing:
    delivered_to: list[int] = field(default_factory=list)
    started: list[int] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)  # messages thrown by the receivers in turn
    failed: list[int] = field(default_factory=list)  # receivers whose step failed (now in error)


def subscriptions_of(uow: UnitOfWork, instance_id: int) -> list[str]:
    stmt = select(MessageSubscription.element_id).where(MessageSubscription.instance_id == instance_id)
    return list(uow.session.execute(stmt).scalars())


def target_keys(uow: UnitOfWork, msg: Message, payload: dict[str, Any]) -> list[str]:
    """Which business keys a message is for. A throw event's `correlate_to` property names the data field
    holding the key (or a list of keys); by default a message goes back to the instance that started it."""
    if msg.correlation_key:
        return [msg.correlation_key]
    variable = "origin_key"
    sender = uow.session.get(ProcessInstance, msg.sender_instance_id) if msg.sender_instance_id else None
    if sender is not None:
        lv = specs.loaded(uow, sender.process_version_id)
        for el in lv.meta.elements.values():
            if el.kind in THROW_KINDS and el.message == msg.name and el.properties.get("correlate_to"):
                variable = el.properties["correlate_to"]
                break
    value = payload.get(variable)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _starting_processes(uow: UnitOfWork, name: str) -> list[str]:
    found = []
    for item in deploy.list_latest(uow):
        row = deploy.latest(uow, item["key"])
        if row is not None and name in specs.loaded(uow, row.id).meta.message_starts():
            found.append(item["key"])
    return found


def route(uow: UnitOfWork, msg: Message, actor: str | None = None) -> Routing:
    """Delivers the message to whoever waits for it (or starts the processes it starts). `actor` is who
    routes it (the sender's step, the worker's retry, an administrator): the author of a dead-lettering."""
    from engine.services.instances import start_in

    payload = json.loads(msg.payload_json)
    result = Routing()
    keys = target_keys(uow, msg, payload)
    sender = uow.session.get(ProcessInstance, msg.sender_instance_id) if msg.sender_instance_id else None
    subs = []
    if keys:
        stmt = select(MessageSubscription).where(MessageSubscription.message_name == msg.name,
                                                 MessageSubscription.correlation_key.in_(keys))
        subs = list(uow.session.execute(stmt).scalars())
    for sub in subs:
        inst = stepping.lock_instance(uow, sub.instance_id)
        if inst.status not in ("running", "waiting"):
            continue  # in error: it gets the message once someone (or the worker's retry) has fixed it
        try:
            # Each receiver's step is its own unit: if it fails, that receiver goes to error, not the sender.
            with uow.session.begin_nested():
                outcome = _deliver_to(uow, inst, sub, msg, payload, sender)
        except LookupError:
            continue  # it stopped waiting since the subscription was written
        except Exception as exc:
            if step_guard.is_connection_error(exc):
                raise
            step_guard.mark_failed(uow, stepping.lock_instance(uow, sub.instance_id), msg.sent_by, exc)
            result.failed.append(sub.instance_id)
            continue
        result.delivered_to.append(inst.id)
        result.message_ids.extend(outcome.message_ids)
    if not result.delivered_to and not result.failed:
        data = {k: v for k, v in payload.items() if k not in RESERVED}
        # Whoever asked for the sending record is the requester of what it starts (separation of duties).
        if payload.get("requester") or payload.get("started_by"):
            data["requester"] = payload.get("requester") or payload.get("started_by")
        for process_key in _starting_processes(uow, msg.name):
            starter = Actor(msg.sent_by, frozenset({"admin"}))
            origin = sender.business_key if sender else (keys[0] if keys else None)
            outcome = start_in(uow, starter, process_key, data, origin_key=origin,
                               via={"message": msg.name, "message_id": msg.id, "payload": payload})
            result.started.append(outcome.instance.id)
            result.message_ids.extend(outcome.message_ids)
    targets = result.delivered_to + result.started
    msg.delivered_to_json = json.dumps(targets)
    if not targets:
        message_retry.failed_attempt(uow, msg, _why_unrouted(keys, result), actor or msg.sent_by)
    else:
        msg.attempts += 1
        msg.status, msg.next_attempt_at, msg.last_error = "delivered", None, None
    if targets and sender is not None:
        audit.append(uow, [NewEvent("message.delivered", msg.sent_by, sender.id, None, None,
                                    {"name": msg.name, "message_id": msg.id, "to": targets})])
    uow.session.flush()
    return result


def _why_unrouted(keys: list[str], result: Routing) -> str:
    if result.failed:
        return f"the receiving records {result.failed} failed on it (now in error)"
    if not keys:
        return "it names no record to go to and no process starts on it"
    return f"no record waits for it under {', '.join(keys)} and no process starts on it"


def _deliver_to(uow: UnitOfWork, inst: ProcessInstance, sub: MessageSubscription, msg: Message,
                payload: dict[str, Any], sender: ProcessInstance | None) -> stepping.StepOutcome:
    runner, lv = stepping.restore(uow, inst)
    steps = runner.deliver(msg.name, payload)
    events = [NewEvent("message.delivered", msg.sent_by, inst.id, sub.element_id, None,
                       {"name": msg.name, "message_id": msg.id, "from": sender.business_key if sender else None})]
    return stepping.save_step(uow, inst, runner, lv, steps, msg.sent_by, events, inst.revision)


def deliver_pending(db: Database, message_ids: list[int], depth: int = 0) -> None:
    """Routes messages thrown by a committed step, each in its own transaction (and what they cause)."""
    for message_id in message_ids:
        try:
            with unit_of_work(db) as uow:
                msg = _claim(uow, message_id)
                if msg is None:
                    continue
                result = route(uow, msg)
                uow.commit()
        except Exception as exc:
            if step_guard.is_connection_error(exc):
                raise
            # The sender's step is committed and the message stored: the worker's retry takes it from here.
            log.warning("routing message %s failed: %r", message_id, exc)
            continue
        if depth < 20:
            deliver_pending(db, result.message_ids, depth + 1)


def post(db: Database, actor: Actor, name: Any, correlation: dict[str, Any] | None,
         data: dict[str, Any] | None) -> Routing:
    policy.require(actor, "post_message")
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("a message needs a name", fields={"name": "is required"})
    if data is not None and not isinstance(data, dict):
        raise BadRequest("data must be an object", fields={"data": "must be an object"})
    key = None
    if correlation:
        if not isinstance(correlation, dict):
            raise BadRequest("correlation must be an object", fields={"correlation": "must be an object"})
        key = correlation.get("business_key") or next(iter(correlation.values()), None)
    with unit_of_work(db) as uow:
        msg = Message(name=name.strip(), correlation_key=str(key) if key else None,
                      payload_json=json.dumps(data or {}), sender_instance_id=None, sent_by=actor.username,
                      status="pending", created_at=clock.now())
        uow.session.add(msg)
        uow.session.flush()
        result = route(uow, msg)
        uow.commit()
        message_id, status = msg.id, msg.status
    deliver_pending(db, result.message_ids)
    if not result.delivered_to and not result.started:
        kept = "kept as unrouted (the worker retries it)" if status == "unrouted" else "a dead letter now"
        raise NotFound(f"nothing waits for message {name!r}; it is {kept}", message_id=message_id, status=status)
    return result


def retry_unrouted(db: Database, limit: int = 100, actor: str = "worker") -> int:
    """Worker sweep: tries again the messages nobody took whose pause is over. Returns how many got delivered
    now. Each failed attempt lengthens the pause; the last one makes the message a dead letter."""
    with unit_of_work(db) as uow:
        due = or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= clock.now())
        stmt = (select(Message.id).where(Message.status.in_(message_retry.RETRYABLE), due)
                .order_by(Message.attempts, Message.id))
        ids = list(uow.session.execute(stmt.limit(limit)).scalars())
    delivered = 0
    for message_id in ids:
        try:
            with unit_of_work(db) as uow:
                msg = _claim(uow, message_id)
                if msg is None:
                    continue
                result = route(uow, msg, actor)
                uow.commit()  # delivered, or the attempt counted (failed receivers were put in error: kept)
        except Exception as exc:
            if step_guard.is_connection_error(exc):
                raise
            log.warning("routing message %s failed: %r", message_id, exc)
            with unit_of_work(db) as uow:  # count the attempt; the failed routing itself was rolled back
                msg = _claim(uow, message_id)
                if msg is not None:
                    message_retry.failed_attempt(uow, msg, f"routing failed: {exc!r}", actor)
                    uow.commit()
            continue
        if result.delivered_to or result.started:
            delivered += 1
            deliver_pending(db, result.message_ids)
    return delivered


def _claim(uow: UnitOfWork, message_id: int) -> Message | None:
    """The message, locked, if it still waits for a retry. Another worker holding it is skipped (PostgreSQL):
    two workers never route the same message at once."""
    stmt = (select(Message).where(Message.id == message_id, Message.status.in_(message_retry.RETRYABLE))
            .with_for_update(skip_locked=True))
    return uow.session.execute(stmt).scalar_one_or_none()


def undelivered(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Messages still being tried (dead letters are listed by engine/services/dead_letters.py)."""
    stmt = select(Message).where(Message.status.in_(message_retry.RETRYABLE)).order_by(Message.id)
    return [{"id": m.id, "name": m.name, "status": m.status, "attempts": m.attempts,
             "created_at": m.created_at.isoformat(), "sender_instance_id": m.sender_instance_id,
             "next_attempt_at": m.next_attempt_at.isoformat() if m.next_attempt_at else None}
            for m in uow.session.execute(stmt).scalars()]
