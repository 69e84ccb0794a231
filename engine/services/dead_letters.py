"""Dead letters: messages whose bounded retries ran out (engine/services/message_retry.py). An administrator
lists them, redelivers one (back to pending with its attempts reset, routed at once) or discards one; both acts
need a reason and are audit events (admin.message_redelivered / admin.message_discarded) in the sending record's
trail, written in the same transaction as the change of the message."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import Message, ProcessInstance
from engine.errors import BadRequest, Conflict, NotFound
from engine.services import audit, messages, policy
from engine.services.actors import Actor
from engine.services.audit import NewEvent


def _reason(actor: Actor, reason: Any) -> str:
    policy.require(actor, "dead_letters")
    if not isinstance(reason, str) or not reason.strip():
        raise BadRequest("a reason is required", fields={"reason": "is required"})
    return reason.strip()


def _view(uow: UnitOfWork, msg: Message, secrets: frozenset[str]) -> dict[str, Any]:
    sender = uow.session.get(ProcessInstance, msg.sender_instance_id) if msg.sender_instance_id else None
    payload = json.loads(msg.payload_json)
    return {"id": msg.id, "name": msg.name, "status": msg.status, "attempts": msg.attempts,
            "to": messages.target_keys(uow, msg, payload), "sender": sender.business_key if sender else None,
            "sent_by": msg.sent_by, "created_at": msg.created_at.isoformat(),
            "dead_at": msg.dead_at.isoformat() if msg.dead_at else None, "last_error": msg.last_error,
            "payload": audit.mask_secrets(payload, secrets)}


def listing(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """The dead letters, the most recent first. Secret form fields are masked in the payloads, as in the trail."""
    policy.require(actor, "dead_letters")
    with unit_of_work(db, readonly=True) as uow:
        secrets = audit.secret_names(uow.session)
        stmt = select(Message).where(Message.status == "dead").order_by(Message.dead_at.desc(), Message.id.desc())
        return [_view(uow, m, secrets) for m in uow.session.execute(stmt).scalars()]


def _dead(uow: UnitOfWork, message_id: int) -> Message:
    msg = uow.session.execute(select(Message).where(Message.id == message_id).with_for_update()).scalar_one_or_none()
    if msg is None:
        raise NotFound(f"no message {message_id}")
    if msg.status != "dead":
        # a double click, or another administrator was first
        raise Conflict(f"message {message_id} is not a dead letter (it is {msg.status})", status=msg.status)
    return msg


def _event(actor: Actor, kind: str, msg: Message, why: str) -> NewEvent:
    return NewEvent(kind, actor.username, msg.sender_instance_id, None, None,
                    {"message_id": msg.id, "name": msg.name, "reason": why, "attempts": msg.attempts,
                     "last_error": msg.last_error})


def redeliver(db: Database, actor: Actor, message_id: int, reason: Any) -> dict[str, Any]:
    """Puts a dead letter back to pending with its attempts reset and routes it now. If nobody takes it yet, it
    is retried by the worker like a new message (and may die again)."""
    why = _reason(actor, reason)
    with unit_of_work(db) as uow:
        msg = _dead(uow, message_id)
        audit.append(uow, [_event(actor, "admin.message_redelivered", msg, why)])
        msg.status, msg.attempts, msg.next_attempt_at, msg.dead_at, msg.last_error = "pending", 0, None, None, None
        uow.commit()
    # Routed in its own transaction, as a freshly sent message: the admin act stands even if routing fails.
    messages.deliver_pending(db, [message_id])
    with unit_of_work(db, readonly=True) as uow:
        routed = uow.session.get(Message, message_id)
        assert routed is not None
        return {**_view(uow, routed, audit.secret_names(uow.session)),
                "delivered_to": json.loads(routed.delivered_to_json) if routed.status == "delivered" else []}


def discard(db: Database, actor: Actor, message_id: int, reason: Any) -> dict[str, Any]:
    """Gives a dead letter up for good. The row stays (status `discarded`): the trail and the table agree."""
    why = _reason(actor, reason)
    with unit_of_work(db) as uow:
        msg = _dead(uow, message_id)
        audit.append(uow, [_event(actor, "admin.message_discarded", msg, why)])
        msg.status = "discarded"
        view = _view(uow, msg, audit.secret_names(uow.session))
        uow.commit()
    return view
