"""What the records pages read (the search and one record with its conversation, clocks and problems), as plain
data from one unit of work each, so no session or ORM row reaches web/."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.db.database import Database, unit_of_work
from engine.services import conversation, instances, policy, problems, reports, sla
from engine.services.actors import Actor
from engine.services.desk_config import attachment_limits


@dataclass
class Search:
    """Either `exact` (the business key typed, to open at once) or a page of rows."""
    exact: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: int | None = None
    processes: list[str] = field(default_factory=list)


def search(db: Database, actor: Actor, f: reports.InstanceFilter, cursor: int | None) -> Search:
    with unit_of_work(db, readonly=True) as uow:
        exact = reports.exact_key(uow, actor, f.q) if f.q and not cursor else None
        if exact:
            return Search(exact=exact)
        rows, next_cursor = reports.search_instances(uow, actor, f, 50, cursor)
        return Search(rows=rows, next_cursor=next_cursor, processes=reports.process_keys(uow))


def record(db: Database, actor: Actor, ref: str) -> dict[str, Any]:
    """The record page's context: the record, its conversation (without internal notes in the timeline for those
    who may not read them), the upload limits, its service-level clocks and, for those who may, its problems."""
    with unit_of_work(db, readonly=True) as uow:
        ctx = reports.record_page(uow, actor, ref)
        events = ctx["events"]
        if not conversation.may_use_internal(actor):
            events = [e for e in events if not conversation.internal_event(e["type"], e["data"])]
        limits = attachment_limits()
        ctx.update({"conversation": conversation.conversation(uow, actor, instances.find(uow, actor, ref)),
                    "events": events, "may_internal": conversation.may_use_internal(actor),
                    "upload_max": limits.max_bytes, "upload_types": sorted(limits.types)})
        ctx["clocks"] = sla.clocks_of(uow, actor, ref)["clocks"]
        ctx["may_problems"] = policy.may(actor, "problems")
        ctx["problems"] = problems.problems_of(uow, ctx["record"]["business_key"]) if ctx["may_problems"] else []
        return ctx
