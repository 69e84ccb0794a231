"""Notifications: whom to tell what, in the app and by mail. Everything is written in the transaction of the
event that causes it (mail goes to the outbox, which the worker sends), inside a savepoint: a failure here is
logged and never fails or blocks the step. Each person can switch off each kind per channel."""

from __future__ import annotations

import json
import logging
from string import Template
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.db.database import UnitOfWork
from engine.db.models import HumanTask, ProcessInstance, User, UserRole
from engine.db.models_desk import (
    MailOutbox,
    NoticeMark,
    Notification,
    NotificationPreference,
    NotificationTemplate,
    RecordComment,
)
from engine.db.rows import InstanceRow
from engine.services import desk_config, parties
from engine.services.actors import Actor
from engine.services.notify_kinds import KINDS

log = logging.getLogger(__name__)
SYSTEM_ACTORS = ("system", "timer")


# ------------------------------------------------------------------------------------------ people

def address_of(uow: UnitOfWork, username: str) -> str | None:
    stmt = select(User).where(User.username == username, User.active.is_(True))
    user = uow.session.execute(stmt).scalar_one_or_none()
    if user is None:
        return None
    if user.email:
        return user.email
    domain = desk_config.mail_domain()
    return f"{username}@{domain}" if domain else None


def user_for_address(uow: UnitOfWork, address: str) -> str | None:
    """The active user a mail address belongs to: their own address, else <name>@ITSMFLOW_MAIL_DOMAIN."""
    addr = address.strip().lower()
    found = uow.session.execute(select(User.username).where(User.email.is_not(None), User.active.is_(True))
                                .where(User.email.ilike(addr))).scalars().first()
    if found:
        return found
    domain = desk_config.mail_domain()
    local, _, host = addr.partition("@")
    if domain and host == domain:
        return uow.session.execute(select(User.username).where(User.username == local, User.active.is_(True),
                                                               User.email.is_(None))).scalar_one_or_none()
    return None


def holders_of(uow: UnitOfWork, roles: list[str]) -> list[str]:
    if not roles:
        return []
    stmt = (select(User.username).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role.in_(roles), User.active.is_(True)).distinct().order_by(User.username))
    return list(uow.session.execute(stmt).scalars())


def requesters_of(uow: UnitOfWork, inst: InstanceRow) -> list[str]:
    """Who a record is for (its parties: starter, declared requester and reporter), people only."""
    return sorted(n for n in parties.requesters(uow, inst.id) if n not in SYSTEM_ACTORS and ":" not in n)


def record_summary(inst: InstanceRow) -> str:
    return _summary(inst)


def _summary(inst: InstanceRow) -> str:
    data = json.loads(inst.data_json or "{}")
    for key in ("summary", "title", "opportunity"):
        if isinstance(data.get(key), str) and data[key].strip():
            return data[key].strip()
    return inst.process_key


# ------------------------------------------------------------------------------------------ telling

def template_of(uow: UnitOfWork, kind: str) -> tuple[str, str]:
    row = uow.session.get(NotificationTemplate, kind)
    if row is not None:
        return row.subject, row.body
    return KINDS[kind].subject, KINDS[kind].body


def preference(uow: UnitOfWork, username: str, kind: str) -> tuple[bool, bool]:
    """(in the app, by mail) for this person and kind."""
    row = uow.session.get(NotificationPreference, (username, kind))
    return (True, True) if row is None else (row.in_app, row.email)


def _render(uow: UnitOfWork, kind: str, values: dict[str, Any]) -> tuple[str, str]:
    subject, body = template_of(uow, kind)
    text = {k: str(v) for k, v in values.items()}
    subject = " ".join(Template(subject).safe_substitute(text).split())[:280]
    key = values.get("business_key")
    if key and f"[{key}]" not in subject:
        # Replies are matched to their record by this reference, whatever the organisation's wording.
        subject = f"[{key}] {subject}"
    return subject, Template(body).safe_substitute(text)


def tell(uow: UnitOfWork, usernames: list[str], kind: str, values: dict[str, Any], path: str,
         once: str | None = None) -> int:
    """Tells each person (in the app and/or by mail, as they chose). `path` is the page to open; `once` names
    an event that must be told only once. Returns how many people were told. Never raises."""
    try:
        with uow.session.begin_nested():
            return _tell(uow, usernames, kind, values, path, once)
    except Exception:  # a notification must never fail the step that caused it
        log.exception("notification %s could not be written", kind)
        return 0


def _tell(uow: UnitOfWork, usernames: list[str], kind: str, values: dict[str, Any], path: str,
          once: str | None) -> int:
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind}")
    session, now = uow.session, clock.now()
    if once is not None:
        if session.get(NoticeMark, once) is not None:
            return 0
        session.add(NoticeMark(key=once, at=now))
    smtp = desk_config.smtp()
    told = 0
    for username in dict.fromkeys(usernames):
        in_app, by_mail = preference(uow, username, kind)
        subject, body = _render(uow, kind, {**values, "name": username, "link": desk_config.base_url() + path})
        note_id = None
        if in_app:
            note = Notification(username=username, kind=kind, business_key=values.get("business_key"),
                                subject=subject, body=body, link=path, created_at=now)
            session.add(note)
            session.flush()
            note_id = note.id
        address = address_of(uow, username) if by_mail and smtp is not None else None
        if address:
            session.add(MailOutbox(to_addr=address, subject=subject, body=body, notification_id=note_id,
                                   status="pending", attempts=0, next_attempt_at=now, created_at=now))
        told += bool(in_app or address)
    session.flush()
    return told


# ------------------------------------------------------------------------------------------ the events

def task_values(inst: InstanceRow, task: HumanTask) -> dict[str, Any]:
    return {"task": task.name, "business_key": inst.business_key, "summary": _summary(inst),
            "due": task.due_at.strftime("%Y-%m-%d %H:%M UTC") if task.due_at else "—"}


def task_assigned(uow: UnitOfWork, inst: InstanceRow, task: HumanTask, by: str,
                  kind: str = "task_assigned") -> None:
    if task.assignee and task.assignee != by:
        tell(uow, [task.assignee], kind, {**task_values(inst, task), "actor": by}, f"/tasks/{task.id}")


def sla(uow: UnitOfWork, task: HumanTask, kind: str) -> int:
    """SLA about to be missed (`sla_warning`) or missed (`sla_breached`) on an open task: tells its holder, or
    everyone of its roles while nobody holds it, once per task and kind. The SLA engine calls this too."""
    if kind not in ("sla_warning", "sla_breached"):
        raise ValueError(kind)
    inst = uow.session.get(ProcessInstance, task.instance_id)
    if inst is None:
        return 0
    people = [task.assignee] if task.assignee else holders_of(uow, json.loads(task.roles_json))
    return tell(uow, people, kind, task_values(inst, task), f"/tasks/{task.id}", once=f"{kind}:{task.id}")


def after_step(uow: UnitOfWork, inst: InstanceRow, new_tasks: list[HumanTask], trail: list[Any],
               elements: dict[str, Any], actor: str) -> None:
    """Called by every engine step: new tasks (assigned, approvals, resolutions to confirm) and SLA timers."""
    try:
        for task in new_tasks:
            el = elements.get(task.element_id)
            declared = (el.properties.get("notification") if el is not None else None) or ""
            if declared == "record_resolved":
                for person in [task.assignee] if task.assignee else requesters_of(uow, inst):
                    tell(uow, [person], "record_resolved", task_values(inst, task), f"/tasks/{task.id}")
            elif task.assignee:
                task_assigned(uow, inst, task, actor)
            elif task.approval:
                tell(uow, holders_of(uow, json.loads(task.roles_json)), "approval_requested",
                     task_values(inst, task), f"/tasks/{task.id}")
        for ev in trail:
            if ev.type == "timer.fired":
                el = elements.get(ev.element_id or "")
                if el is not None and el.attached_to:
                    _timer_breach(uow, inst, el.attached_to)
        from engine.services import notify_declared

        notify_declared.after_step(uow, inst, trail, elements)
    except Exception:  # never fail the step
        log.exception("notifications after a step of %s failed", inst.business_key)


def _timer_breach(uow: UnitOfWork, inst: InstanceRow, element_id: str) -> None:
    stmt = select(HumanTask).where(HumanTask.instance_id == inst.id, HumanTask.element_id == element_id)
    for task in uow.session.execute(stmt).scalars():
        sla(uow, task, "sla_breached")


def comment_added(uow: UnitOfWork, author: Actor, inst: ProcessInstance, comment: RecordComment) -> None:
    """Public comments go to the record's requesters; every comment to the holders of its open tasks."""
    people: list[str] = requesters_of(uow, inst) if comment.visibility == "public" else []
    holders = uow.session.execute(select(HumanTask.assignee).where(HumanTask.instance_id == inst.id,
                                                                   HumanTask.assignee.is_not(None))).scalars()
    people += [h for h in holders if h]
    people = [p for p in dict.fromkeys(people) if p != author.username]
    if people:
        tell(uow, people, "comment_added", {"business_key": inst.business_key, "summary": _summary(inst),
                                            "author": author.username, "comment": comment.body},
             f"/records/{inst.business_key}")
