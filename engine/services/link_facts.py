"""Facts about records a record links to: a process declares, in `linked_records`, the data fields that hold the
business key of another record (a change names the incident it fixes). For each such field `f` with a value the
provider sets, at every start and completion:

    f_open        the linked record is still open (running or waiting)
    f_priority    its priority (the value of its process's declared priority field), None when it has none
    f_process     the process it runs in

A key named in this step that matches no record refuses the step (422 naming the field). The tables then decide
from these facts, for example an emergency change needs an open high-priority incident (docs/processes.md)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select

from engine.db.driver import Prepared
from engine.db.models import ProcessInstance
from engine.services import declared

if TYPE_CHECKING:
    from engine.services.facts import FactContext, Provided

OPEN = ("running", "waiting")
# At every step of a record that links another: the four values read of it (not its state), on the driver's cursor.
_LINKED = Prepared(select(ProcessInstance.status, ProcessInstance.process_version_id, ProcessInstance.process_key,
                          ProcessInstance.data_json).where(ProcessInstance.business_key == bindparam("key")))


def provide(ctx: FactContext) -> Provided:
    from engine.services.facts import Provided

    out = Provided("linked_records")
    for fld in ctx.decl.linked_records:
        raw = ctx.value(fld)
        if raw in (None, ""):
            out.values.update({f"{fld}_open": None, f"{fld}_priority": None, f"{fld}_process": None})
            continue
        key = raw.strip().upper() if isinstance(raw, str) else None
        linked = _LINKED.one_or_none(ctx.uow, {"key": key}) if key else None
        if linked is None:
            if ctx.said(fld):
                out.errors[fld] = f"there is no record {raw!r}: give the business key of an existing record"
            continue
        status, version_id, process_key, data_json = linked
        priority_field = declared.of_version(ctx.uow, version_id).priority_field
        data = json.loads(data_json)
        out.values.update({fld: key, f"{fld}_open": status in OPEN,
                           f"{fld}_priority": data.get(priority_field) if priority_field else None,
                           f"{fld}_process": process_key})
        out.basis[fld] = {"record": key, "status": status, "priority": out.values[f"{fld}_priority"]}
    return out
