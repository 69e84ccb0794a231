"""Timers: the host fires them. Due instances are found by an indexed next_wakeup_at and locked one at a time
(PostgreSQL: FOR UPDATE SKIP LOCKED, so several workers share the work; SQLite: BEGIN IMMEDIATE)."""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, func, select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import Message, ProcessInstance, WorkerHeartbeat
from engine.errors import Conflict
from engine.services import audit_chains, cadences, inbox_tally, messages, notify_sweeps, step_guard, stepping

log = logging.getLogger(__name__)

LIVE = ("running", "waiting")
# When a timer is reported due but the engine does not fire it yet (clock skew between our reading and the
# engine's), look again shortly instead of spinning on it.
RECHECK = timedelta(seconds=15)
NOTIFY_EVERY = 30.0
# Due timers older than this are "stalled" in /health: no worker is firing them.
MAX_PAUSE = 30.0
STALL_AFTER = timedelta(seconds=int(os.environ.get("ITSMFLOW_STALL_SECONDS", "120")))


@dataclass
class FireResult:
    instances: int = 0
    failed: list[int] = field(default_factory=list)


def _due(now: datetime) -> ColumnElement[bool]:
    """Live instances whose wake-up is due, and instances a failed step put in error whose retry is due."""
    return and_(ProcessInstance.next_wakeup_at <= now, ProcessInstance.status.in_((*LIVE, "error")))


def fire_one(db: Database, actor: str = "timer", skip: frozenset[int] = frozenset(),
             unrecorded: list[int] | None = None) -> int | None:
    """Fires the timers of one due instance, as one guarded unit. Returns its id, or None when nothing is due.

    A failure that is not the database connection's rolls back the step and marks that instance `error` with
    the reason (and a back-off before the next attempt); connection failures propagate to the loop."""
    with unit_of_work(db) as uow:
        now = clock.now()
        stmt = select(ProcessInstance).where(_due(now)).order_by(ProcessInstance.next_wakeup_at).limit(1)
        if skip:
            stmt = stmt.where(ProcessInstance.id.not_in(skip))
        if uow.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        inst = uow.session.execute(stmt).scalar_one_or_none()
        if inst is None:
            return None
        instance_id = inst.id
        if inst.status == "error" and step_guard.worker_error(inst) is None:
            # An engine error (a failed script) waits for a person to retry it; it has no wake-up of its own.
            inst.next_wakeup_at = None
            uow.commit()
            return instance_id
        failure: Exception | None
        try:
            outcome = _fire(uow, inst, actor, now)
        except Conflict:
            return instance_id  # someone else stepped it meanwhile: it is looked at again if still due
        except Exception as exc:
            if step_guard.is_connection_error(exc):
                raise
            failure = exc
        else:
            failure = None
    if failure is not None:
        try:
            _mark_failed(db, instance_id, actor, failure)
        except Exception as exc:
            if step_guard.is_connection_error(exc):
                raise
            log.exception("could not record the failure of instance %s; leaving it alone", instance_id)
            if unrecorded is not None:
                unrecorded.append(instance_id)
        return instance_id
    messages.deliver_pending(db, outcome.message_ids)
    return instance_id


def _fire(uow: UnitOfWork, inst: ProcessInstance, actor: str, now: datetime) -> stepping.StepOutcome:
    runner, lv = stepping.restore(uow, inst)
    seen = inst.revision
    steps = runner.fire_timers()
    outcome = stepping.save_step(uow, inst, runner, lv, steps, actor, [], seen, not_before=now + RECHECK)
    uow.commit()
    return outcome


def _mark_failed(db: Database, instance_id: int, actor: str, exc: BaseException) -> None:
    with unit_of_work(db) as uow:
        step_guard.mark_failed(uow, stepping.lock_instance(uow, instance_id), actor, exc)
        uow.commit()


def fire_due(db: Database, limit: int = 1000, actor: str = "timer", skip: set[int] | None = None) -> FireResult:
    """Fires due instances one by one. `skip` holds instances whose failure could not even be recorded: they
    are left alone (and added to it) so that they cannot hold up the others."""
    result = FireResult()
    skip = set() if skip is None else skip
    while result.instances < limit:
        fired = fire_one(db, actor, frozenset(skip), result.failed)
        if fired is None:
            break
        result.instances += 1
    skip.update(result.failed)
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
               stop: Stop | None = None) -> int:
    """The worker loop: fire due timers, retry undelivered messages, report liveness.

    Nothing one instance does stops it: each step is guarded (fire_one). A lost database connection or any
    other failure of a round is logged, the pool is reset and the round tried again after a growing pause."""
    worker_id = worker_id or worker_name()
    total, swept, failures = 0, 0.0, 0
    stuck: set[int] = set()
    while True:
        try:
            result = fire_due(db, actor=f"worker:{worker_id}", skip=stuck)
            messages.retry_unrouted(db, actor=f"worker:{worker_id}")
            cadences.run(db)  # governance reviews: records declared to start on a repeating interval
            # Notifications: SLA warnings and digests every NOTIFY_EVERY seconds, the mail outbox every round.
            sweep = once or time.monotonic() - swept >= NOTIFY_EVERY
            notify_sweeps.run_once(db, sweeps=sweep)
            if sweep:
                inbox_tally.compact(db)  # the inbox totals' +1/-1 rows folded into one per group
            swept = time.monotonic() if sweep else swept
            heartbeat(db, worker_id, result.instances)
            audit_chains.anchor_if_due(db)  # the audit chains' heads, anchored every so often
        except Exception as exc:
            if once:
                raise
            failures += 1
            pause = min(interval * 2 ** failures, MAX_PAUSE)
            log.warning("worker round failed (%s in a row), next try in %.1fs: %r", failures, pause, exc)
            if step_guard.is_connection_error(exc):
                db.dispose()  # drop the broken pooled connections; the next round connects afresh
            if _wait(pause, stop):
                return total
            continue
        failures = 0
        total += result.instances
        if once or _stopped(stop):
            return total
        if result.instances == 0 and _wait(interval, stop):
            return total


class Stop(Protocol):
    """What asks the worker loop to end (a threading or multiprocessing Event)."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


def _stopped(stop: Stop | None) -> bool:
    return stop is not None and stop.is_set()


def _wait(seconds: float, stop: Stop | None) -> bool:
    """Sleeps; True when asked to stop meanwhile."""
    if stop is not None:
        return bool(stop.wait(seconds))
    time.sleep(seconds)
    return False


def status(db: Database) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        now = clock.now()
        s = uow.session
        due = s.execute(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.next_wakeup_at <= now, ProcessInstance.status.in_(LIVE))).scalar_one()
        stalled_q = select(func.count(), func.min(ProcessInstance.next_wakeup_at)).select_from(ProcessInstance).where(
            ProcessInstance.next_wakeup_at <= now - STALL_AFTER, ProcessInstance.status.in_(LIVE))
        stalled, oldest = s.execute(stalled_q).one()
        errored = s.execute(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.status == "error")).scalar_one()
        workers = [{"worker": w.worker_id, "seen_at": w.seen_at.isoformat(),
                    "alive": (now - w.seen_at) < timedelta(seconds=30), "fired": w.fired}
                   for w in s.execute(select(WorkerHeartbeat).order_by(WorkerHeartbeat.seen_at.desc())).scalars()]
        undelivered = messages.undelivered(uow)
        dead = s.execute(select(func.count()).select_from(Message).where(Message.status == "dead")).scalar_one()
    return {"due_timers": due, "stalled_timers": stalled,
            "oldest_stalled_due_at": oldest.isoformat() if oldest else None, "errored_instances": errored,
            "undelivered_messages": len(undelivered), "dead_letters": dead,
            "workers": workers}
