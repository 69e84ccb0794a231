"""Record data the catalogue asks SQL about, kept in step after every step (as record_party is): the CIs a
record links (its declared `ci_field`) and the window it runs in (its declared `window_fields`), with whether
it is approved and still open. The record's data stays the truth; these rows are rewritten from it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.db.cmdb import RecordCi, RecordService, RecordWindow
from engine.db.database import UnitOfWork
from engine.db.driver import Prepared
from engine.db.models import ProcessInstance, table_of
from engine.db.rows import InstanceRow
from engine.diagram.declarations import Declarations
from engine.diagram.forms import parse_instant
from engine.services.cmdb_facts import split

_SERVICE = table_of(RecordService)


def _put(insert: Any) -> Prepared:
    stmt = insert(_SERVICE).values(instance_id=bindparam("i"), service_id=bindparam("s"))
    return Prepared(stmt.on_conflict_do_update(index_elements=[_SERVICE.c.instance_id],
                                               set_={"service_id": stmt.excluded.service_id}))


# Both writes hold whether or not the row is there: the step decides from the data alone, without reading it.
_SERVICE_PUT = {"postgresql": _put(pg_insert), "sqlite": _put(sqlite_insert)}
_SERVICE_DROP = Prepared(delete(_SERVICE).where(_SERVICE.c.instance_id == bindparam("i")))

_WINDOW = table_of(RecordWindow)
_WINDOW_COLUMNS = ("business_key", "process_key", "title", "service_id", "starts_at", "ends_at", "approved", "status")


def _put_window(insert: Any) -> Prepared:
    stmt = insert(_WINDOW).values({"instance_id": bindparam("i"), **{n: bindparam(n) for n in _WINDOW_COLUMNS}})
    return Prepared(stmt.on_conflict_do_update(index_elements=[_WINDOW.c.instance_id],
                                               set_={n: stmt.excluded[n] for n in _WINDOW_COLUMNS}))


# A record with a window is read and, when what the calendar shows changed, written at every step.
_WINDOW_OF = Prepared(select(*(_WINDOW.c[n] for n in _WINDOW_COLUMNS)).where(_WINDOW.c.instance_id == bindparam("i")))
_WINDOW_PUT = {"postgresql": _put_window(pg_insert), "sqlite": _put_window(sqlite_insert)}
_WINDOW_DROP = Prepared(delete(_WINDOW).where(_WINDOW.c.instance_id == bindparam("i")))


def service_of(decl: Declarations, data: dict[str, Any]) -> str | None:
    """The service the record's data names, as the index holds it."""
    value = data.get(decl.service_field) if decl.service_field else None
    return value.strip()[:60] if isinstance(value, str) and value.strip() else None


def _sync_service(uow: UnitOfWork, inst: InstanceRow, decl: Declarations, data: dict[str, Any],
                  before: dict[str, Any] | None) -> None:
    service = service_of(decl, data)
    if before is not None and service_of(decl, before) == service:
        return  # the row says what the data said before this step (most steps leave the service alone)
    if service is None:
        _SERVICE_DROP.execute(uow, {"i": inst.id})
    else:
        _SERVICE_PUT["postgresql" if uow.is_postgres else "sqlite"].execute(uow, {"i": inst.id, "s": service})


def window_of(decl: Declarations, data: dict[str, Any]) -> tuple[datetime, datetime] | None:
    """The record's window, or None when it declares none or it is not (yet) a valid one. A bare date as the
    end means the end of that day."""
    if decl.window_fields is None:
        return None
    raw_start, raw_end = (data.get(f) for f in decl.window_fields)
    if not isinstance(raw_start, str) or not isinstance(raw_end, str):
        return None
    try:
        start, end = parse_instant(raw_start.strip()), parse_instant(raw_end.strip())
    except ValueError:
        return None
    if len(raw_end.strip()) == 10:
        end += timedelta(days=1)
    return (start, end) if end > start else None


def sync(uow: UnitOfWork, inst: InstanceRow, decl: Declarations, data: dict[str, Any],
         before: dict[str, Any] | None = None) -> None:
    """before: the record's data before this step, which its rows were kept in step with ({} for a record this
    step inserts): what it already says is not read again. None when the rows may say something else (a
    rebuild, a migration to a version that declares other fields): they are written as the data says."""
    _sync_service(uow, inst, decl, data, before)
    if decl.ci_field is not None and (before is None or split(before.get(decl.ci_field)) != split(data.get(
            decl.ci_field))):
        wanted = set(split(data.get(decl.ci_field)))
        have = set(uow.session.execute(select(RecordCi.ci_id).where(RecordCi.instance_id == inst.id)).scalars())
        if wanted != have:
            uow.session.execute(delete(RecordCi).where(RecordCi.instance_id == inst.id,
                                                       RecordCi.ci_id.in_(sorted(have - wanted))))
            uow.session.add_all(RecordCi(instance_id=inst.id, ci_id=c[:60]) for c in sorted(wanted - have))
    if decl.window_fields is None:
        return
    window = window_of(decl, data)
    shown = _WINDOW_OF.one_or_none(uow, {"i": inst.id})  # what the calendar shows now
    if window is None:
        if shown is not None:
            _WINDOW_DROP.execute(uow, {"i": inst.id})
        return
    service = data.get(decl.service_field) if decl.service_field else None
    values = {"business_key": inst.business_key or str(inst.id), "process_key": inst.process_key,
              "title": decl.summary(data)[:200], "service_id": service[:60] if isinstance(service, str) else None,
              "starts_at": window[0], "ends_at": window[1], "approved": data.get(decl.approved_field) is True,
              "status": inst.status}
    if shown != tuple(values[n] for n in _WINDOW_COLUMNS):
        _WINDOW_PUT["postgresql" if uow.is_postgres else "sqlite"].execute(uow, {"i": inst.id, **values})


def rebuild(db: Any, batch: int = 500) -> int:
    """Rewrites every record's rows from its data (records stepped before the catalogue's tables existed, or
    after a process's declarations changed); returns how many records were read."""
    import json

    from engine.db.database import unit_of_work
    from engine.services import declared

    done, last = 0, 0
    while True:
        with unit_of_work(db) as uow:
            rows = list(uow.session.execute(select(ProcessInstance).where(ProcessInstance.id > last)
                                            .order_by(ProcessInstance.id).limit(batch)).scalars())
            for inst in rows:
                sync(uow, inst, declared.of_version(uow, inst.process_version_id), json.loads(inst.data_json or "{}"))
            uow.commit()
        if not rows:
            return done
        done += len(rows)
        last = rows[-1].id
