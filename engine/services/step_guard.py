"""When a step fails in the host rather than in the engine (a result that cannot be stored, a value a column
refuses, a bug): the instance is put in `error` with the reason in its trail, and a back-off before a worker
tries it again. Whatever one instance holds, the others keep running."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from engine import clock
from engine.db.database import UnitOfWork
from engine.db.models import ProcessInstance
from engine.services import audit
from engine.services.audit import NewEvent

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
MAX_MESSAGE = 2000


def is_connection_error(exc: BaseException) -> bool:
    """The database went away: not the instance's fault, so the caller reconnects instead of marking it."""
    return isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DBAPIError) and bool(exc.connection_invalidated))


def worker_error(inst: ProcessInstance) -> dict[str, Any] | None:
    """The error a failed host step left on the instance (an engine error has no `source`)."""
    err = json.loads(inst.error_json) if inst.error_json else None
    return err if isinstance(err, dict) and err.get("source") == "worker" else None


def mark_failed(uow: UnitOfWork, inst: ProcessInstance, actor: str, exc: BaseException) -> dict[str, Any]:
    """Puts the (rolled back, re-read) instance in error; the caller commits."""
    log.warning("step of instance %s failed: %r", inst.id, exc)
    attempts = int((worker_error(inst) or {}).get("attempts", 0)) + 1
    retry_at = clock.now() + min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LAST_RETRY)
    reason = f"{type(exc).__name__}: {exc}"[:MAX_MESSAGE]
    error = {"element_id": None, "message": reason, "type": type(exc).__name__, "source": "worker",
             "attempts": attempts, "retry_at": retry_at.isoformat()}
    inst.status, inst.error_json, inst.next_wakeup_at = "error", json.dumps(error), retry_at
    uow.session.flush()
    audit.append(uow, [NewEvent("instance.errored", actor, inst.id, None, None, error)])
    return error
