"""SLA compliance by month, service, priority and clock: how many records met their target, how many breached,
and how many are still open, each clock recomputed from its record's trail (engine/services/sla.py).

A record counts in the month it was received (UTC). A clock without a target (a record never prioritised) is
left out. Compliance is met / (met + breached): open clocks that have not breached yet are not judged."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import ProcessInstance
from engine.errors import BadRequest
from engine.services import policy, sla
from engine.services.actors import Actor

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_MONTHS = 24
CSV_COLUMNS = ("month", "service", "priority", "clock", "records", "met", "breached", "open", "compliance_percent")


@dataclass
class Row:
    month: str
    service: str
    priority: str
    clock: str
    records: int = 0
    met: int = 0
    breached: int = 0
    open: int = 0
    breached_records: list[str] = field(default_factory=list)

    @property
    def compliance_percent(self) -> float | None:
        judged = self.met + self.breached
        return round(100 * self.met / judged, 1) if judged else None

    def add(self, result: str, business_key: str) -> None:
        self.records += 1
        if result == "met":
            self.met += 1
        elif result == "breached":
            self.breached += 1
            self.breached_records.append(business_key)
        else:
            self.open += 1

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "compliance_percent": self.compliance_percent}


def _month(text: str | None, name: str) -> date | None:
    if not text:
        return None
    m = MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise BadRequest(f"{name} must be a month like 2026-03", fields={name: "must be a month like 2026-03"})
    return date(int(m.group(1)), int(m.group(2)), 1)


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months(start: str | None, end: str | None) -> tuple[date, date]:
    """The first and last month of the report (default: the last three months up to this one)."""
    last = _month(end, "to") or clock.now().date().replace(day=1)
    first = _month(start, "from")
    if first is None:
        first = last
        for _ in range(2):
            first = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    if first > last:
        raise BadRequest("the report starts after it ends", fields={"from": "must not be after to"})
    if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        raise BadRequest(f"choose at most {MAX_MONTHS} months", fields={"from": f"at most {MAX_MONTHS} months"})
    return first, last


def compliance(uow: UnitOfWork, actor: Actor, start: str | None = None, end: str | None = None,
               service: str | None = None, priority: str | None = None) -> dict[str, Any]:
    """The report as plain data: rows by (month, service, priority, clock) and totals by clock."""
    policy.require(actor, "dashboard")
    first, last = months(start, end)
    lo = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    hi = datetime.combine(_next(last), datetime.min.time(), tzinfo=UTC)
    versions = sla.versions_with_clocks(uow)
    rows: dict[tuple[str, str, str, str], Row] = {}
    totals: dict[str, Row] = {}
    now = clock.now()
    stmt = (select(ProcessInstance).where(ProcessInstance.process_version_id.in_(versions),
                                          ProcessInstance.started_at >= lo, ProcessInstance.started_at < hi)
            .order_by(ProcessInstance.id))
    for inst in uow.session.execute(stmt).scalars():
        _decl, clocks, ctx = sla.compute(uow, inst, now)
        svc, prio = str(ctx.get("service") or "—"), str(ctx.get("priority") or "—")
        if (service and svc != service) or (priority and prio != priority):
            continue
        month = inst.started_at.astimezone(UTC).strftime("%Y-%m")
        for c in clocks:
            if c.result == "no_target":
                continue
            rows.setdefault((month, svc, prio, c.name), Row(month, svc, prio, c.name)).add(c.result,
                                                                                          inst.business_key)
            totals.setdefault(c.name, Row("all", service or "all", priority or "all", c.name)).add(
                c.result, inst.business_key)
    return {"from": first.strftime("%Y-%m"), "to": last.strftime("%Y-%m"), "service": service,
            "priority": priority, "computed_at": now.isoformat(),
            "rows": [rows[k].to_dict() for k in sorted(rows)],
            "totals": [totals[k].to_dict() for k in sorted(totals)]}


def report(db: Database, actor: Actor, start: str | None = None, end: str | None = None,
           service: str | None = None, priority: str | None = None) -> dict[str, Any]:
    """compliance() in its own read-only unit of work (for the pages and the API)."""
    with unit_of_work(db, readonly=True) as uow:
        return compliance(uow, actor, start, end, service, priority)


def to_csv(report: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in report["rows"]:
        writer.writerow({**row, "compliance_percent": "" if row["compliance_percent"] is None
                         else f"{row['compliance_percent']:.1f}"})
    return buf.getvalue()
