"""What the worker does for notifications on each round: warn before SLA targets pass, tell when they passed,
record the service-level clocks' breaches and escalations (sla_sweep),
send each person's digest of new work for their roles, and send the mail outbox. Each part is isolated: a
failure is logged and the worker goes on."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlalchemy import select

from engine import clock
from engine.db.database import Database, unit_of_work
from engine.db.models import HumanTask, TaskCandidate, User, UserRole
from engine.db.models_desk import DigestMark
from engine.services import desk_config, mailer, notify
from engine.services.sla_sweep import sweep as sla_clock_sweep

log = logging.getLogger(__name__)
BATCH = 200


def sla_sweep(db: Database) -> int:
    """Warns about open tasks due within ITSMFLOW_SLA_WARNING_MINUTES and tells about those past due (once
    each; a boundary timer that fired has usually told already)."""
    told = 0
    with unit_of_work(db) as uow:
        now = clock.now()
        soon = now + timedelta(minutes=desk_config.sla_warning_minutes())
        stmt = (select(HumanTask).where(HumanTask.due_at.is_not(None), HumanTask.due_at <= soon)
                .order_by(HumanTask.due_at).limit(BATCH))
        for task in uow.session.execute(stmt).scalars():
            assert task.due_at is not None
            told += notify.sla(uow, task, "sla_breached" if task.due_at <= now else "sla_warning")
        uow.commit()
    return told


def digests(db: Database) -> int:
    """Every ITSMFLOW_DIGEST_MINUTES: each person with a role gets the unclaimed tasks for their roles that
    arrived since their last digest (nothing when there are none)."""
    sent = 0
    every = timedelta(minutes=desk_config.digest_minutes())
    with unit_of_work(db) as uow:
        now = clock.now()
        people = uow.session.execute(
            select(User.username, UserRole.role).join(UserRole, UserRole.user_id == User.id)
            .where(User.active.is_(True), UserRole.role != "requester")).all()
        roles: dict[str, set[str]] = {}
        for username, role in people:
            roles.setdefault(username, set()).add(role)
        for username, theirs in sorted(roles.items()):
            mark = uow.session.get(DigestMark, username)
            if mark is None:
                uow.session.add(DigestMark(username=username, until=now))  # start counting from now
                continue
            if now - mark.until < every:
                continue
            stmt = (select(HumanTask).join(TaskCandidate, TaskCandidate.task_id == HumanTask.id)
                    .where(TaskCandidate.role.in_(sorted(theirs)), HumanTask.assignee.is_(None),
                           TaskCandidate.created_at > mark.until, TaskCandidate.created_at <= now)
                    .distinct().order_by(HumanTask.created_at))
            new = list(uow.session.execute(stmt).scalars())
            mark.until = now
            if not new:
                continue
            lines = [f"- {t.business_key}: {t.name} (for {', '.join(sorted(set(json.loads(t.roles_json)) & theirs))})"
                     for t in new[:20]]
            if len(new) > 20:
                lines.append(f"- and {len(new) - 20} more")
            sent += notify.tell(uow, [username], "role_digest", {"count": len(new), "list": "\n".join(lines)},
                                "/inbox?tab=available")
        uow.commit()
    return sent


def run_once(db: Database, sweeps: bool = True) -> dict[str, int]:
    """One round of the worker's notification duties (without `sweeps`: only the mail outbox)."""
    done = {"sla": 0, "digests": 0, "mail_sent": 0, "mail_failed": 0}
    jobs = (("sla", sla_sweep), ("sla_clocks", sla_clock_sweep), ("digests", digests))
    for name, job in jobs if sweeps else ():
        try:
            done[name] = job(db)
        except Exception:  # the worker must keep firing timers whatever happens here
            log.exception("notification sweep %s failed", name)
    try:
        result = mailer.send_pending(db)
        done["mail_sent"], done["mail_failed"] = result.sent, result.failed
    except Exception:
        log.exception("sending the mail outbox failed")
    return done
