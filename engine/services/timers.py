"""Timers: the host fires them. Due instances are found by an indexed next_wakeup_at and locked one at a time
(PostgreSQL: FOR UPDATE SKIP LOCKED, so several workers share the work; SQLite: BEGIN IMMEDIATE)."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from engine import clock
from engine.db.database import Database, unit_of_work
from engine.db.models import ProcessInstance, WorkerHeartbeat
from engine.services import messages, notify_sweeps, stepping

LIVE = ("running", "waiting")
# When a timer is reported due but the engine does not fire it yet (clock skew between our reading and the
# engine's), look again shortly instead of spinning on it.
RECHECK = timedelta(seconds=15)
NOTIFY_EVERY = 30.0


@dataclass
class FireResult:
    fired: int = 0
    instances: int = 0


def fire_one(db: Database, actor: str = "timer") -> int | None:
    """Fires the timers of one due instance. Returns its id, or None when nothing is due."""
    with unit_of_work(db) as uow:
        now = clock.now()
        stmt = (select(ProcessInstance)
                .where(ProcessInstance.next_wakeup_at <= now, ProcessInstance.status.in_(LIVE))
                .order_by(ProcessInstance.next_wakeup_at).limit(1))
        if uow.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        inst = uow.session.execute(stmt).scalar_one_or_none()
        if inst is None:
            return None
        runner, lv = stepping.restore(uow, inst)
        seen = inst.revision
        log = runner.fire_timers()
        outcome = stepping.save_step(uow, inst, runner, lv, log, actor, [], seen, not_before=now + RECHECK)
        uow.commit()
        instance_id = inst.id
    messages.deliver_pending(db, outcome.message_ids)
    return instance_id


def fire_due(db: Database, limit: int = 1000, actor: str = "timer") -> FireResult:
    result = FireResult()
    while result.instances < limit:
        fired = fire_one(db, actor)
        if fired is None:
            break
        result.instances += 1
    return result


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def heartbeat(db: Database, worker_id: str, fired: int) -> None:
    with unit_of_work(db) as uow:
        row = uow.session.get(WorkerHeartbeat, worker_id)
        if row is None:
            uow.session.add(WorkerHeartbeat(worker_id=worker_id, seen_at=clock.now(), fired=fired))
        else:
            row.seen_at, row.fired = clock.now(), row.fired + fired
        uow.commit()


def run_worker(db: Database, once: bool = False, interval: float = 1.0, worker_id: str | None = None,
               stop: object | None = None) -> int:
    """The worker loop: fire due timers, retry undelivered messages, report liveness."""
    worker_id = worker_id or worker_name()
    total = 0
    swept = 0.0
    while True:
        result = fire_due(db, actor=f"worker:{worker_id}")
        messages.retry_unrouted(db)
        # Notifications: SLA warnings and digests every NOTIFY_EVERY seconds, the mail outbox every round.
        sweep = once or time.monotonic() - swept >= NOTIFY_EVERY
        notify_sweeps.run_once(db, sweeps=sweep)
        swept = time.monotonic() if sweep else swept
        heartbeat(db, worker_id, result.instances)
        total += result.instances
        if once or (stop is not None and stop.is_set()):
            return total
        if result.instances == 0:
            time.sleep(interval)


def status(db: Database) -> dict[str, object]:
    with unit_of_work(db, readonly=True) as uow:
        now = clock.now()
        s = uow.session
        due = s.execute(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.next_wakeup_at <= now, ProcessInstance.status.in_(LIVE))).scalar_one()
        errored = s.execute(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.status == "error")).scalar_one()
        workers = [{"worker": w.worker_id, "seen_at": w.seen_at.isoformat(),
                    "alive": (now - w.seen_at) < timedelta(seconds=30), "fired": w.fired}
                   for w in s.execute(select(WorkerHeartbeat).order_by(WorkerHeartbeat.seen_at.desc())).scalars()]
        undelivered = messages.undelivered(uow)
    return {"due_timers": due, "errored_instances": errored, "undelivered_messages": len(undelivered),
            "workers": workers}
