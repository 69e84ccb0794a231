"""Maturity per practice, on the framework's five levels, computed from evidence in the database and the trail,
never self-declared (docs/governance.md). A practice is a deployed process. Each level needs the ones below:

1 Initial      work happens, nothing more is shown;
2 Repeatable   a documented procedure is deployed (its diagram) and records follow it in the period;
3 Defined      it is followed: at least FOLLOWED of the records closed in the period have no conformance
               deviation (engine/services/conformance.py);
4 Managed      its results are measured (service-level clocks judged against targets, or the process's
               dashboard measures) and reviewed: an improvement item of the practice was closed in the period
               after its review step;
5 Optimising   an improvement of the practice met its target, and the measured results meet their targets
               (SLA compliance at least OPTIMISED_COMPLIANCE percent when the practice has clocks).

Every level comes with its evidence: the counts and the records behind them."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import AuditEvent, ProcessInstance, ProcessVersion
from engine.diagram import governance
from engine.diagram.metadata import ProcessMeta
from engine.services import cadences, conformance, declared, policy, sla
from engine.services.actors import Actor

NAMES = {1: "Initial", 2: "Repeatable", 3: "Defined", 4: "Managed", 5: "Optimising"}
FOLLOWED = 0.9
OPTIMISED_COMPLIANCE = 90.0
SHOWN = 50  # records listed per piece of evidence (the counts are always complete)


def _meta(uow: UnitOfWork, version_id: int) -> ProcessMeta:
    row = uow.session.get(ProcessVersion, version_id)
    assert row is not None
    return ProcessMeta.from_dict(json.loads(row.meta_json))


def _keys(rows: list[ProcessInstance]) -> list[str]:
    return [r.business_key for r in rows[:SHOWN]]


def _reviews(uow: UnitOfWork, start: datetime, end: datetime,
             deployed: dict[str, tuple[int, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Improvement items closed in the period after their review step, by the practice they review."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for key, (version_id, _decl) in deployed.items():
        register = governance.read(_meta(uow, version_id)).register
        if register is None:
            continue
        items = uow.session.execute(select(ProcessInstance).where(
            ProcessInstance.process_key == key, ProcessInstance.status == "completed",
            ProcessInstance.ended_at >= start, ProcessInstance.ended_at < end).order_by(ProcessInstance.id)).scalars()
        for item in items:
            reviewed = uow.session.execute(select(AuditEvent.seq).where(
                AuditEvent.instance_id == item.id, AuditEvent.type == "task.completed",
                AuditEvent.element_id == register.review_step).limit(1)).first()
            if reviewed is None:
                continue
            data = json.loads(item.data_json or "{}")
            practice = data.get(register.practice_field) if register.practice_field else None
            if not practice and item.origin_key:
                practice = uow.session.execute(select(ProcessInstance.process_key).where(
                    ProcessInstance.business_key == item.origin_key)).scalar_one_or_none()
            if practice:
                found[str(practice)].append({"business_key": item.business_key,
                                             "target_met": data.get(register.target_met_field) is True,
                                             "closed_at": item.ended_at.isoformat() if item.ended_at else None})
    return found


def _measured(uow: UnitOfWork, key: str, version_id: int, started: list[ProcessInstance]) -> dict[str, Any]:
    has_clocks = sla.declarations_of(uow, version_id) is not None
    met = breached = 0
    breached_keys: list[str] = []
    if has_clocks:
        for inst in started:
            _decl, clocks, _ctx = sla.compute(uow, inst)
            for c in clocks:
                if c.result == "met":
                    met += 1
                elif c.result == "breached":
                    breached += 1
                    breached_keys.append(inst.business_key)
    kpis = declared.of_version(uow, version_id).measures.records
    judged = met + breached
    compliance = round(100 * met / judged, 1) if judged else None
    return {"sla_clocks": has_clocks, "dashboard_measures": kpis, "clocks_judged": judged, "met": met,
            "breached": breached, "compliance_percent": compliance, "breached_records": breached_keys[:SHOWN],
            "measured": (has_clocks and judged > 0) or (not has_clocks and kpis and bool(started))}


def assess(uow: UnitOfWork, actor: Actor, start: datetime, end: datetime) -> dict[str, Any]:
    """Every deployed practice's level with the evidence of each level, for the period [start, end)."""
    policy.require(actor, "governance")
    deployed = declared.latest(uow)
    reviews = _reviews(uow, start, end, deployed)
    deviating: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for d in conformance.report(uow, None, start, end):
        if d.process and d.business_key:
            deviating[d.process][d.business_key].append(d.rule)
    practices = [_practice(uow, key, version_id, start, end, reviews.get(key, []), deviating.get(key, {}))
                 for key, (version_id, _decl) in deployed.items()]
    return {"from": start.isoformat(), "to": end.isoformat(), "followed_threshold": FOLLOWED,
            "optimised_compliance": OPTIMISED_COMPLIANCE, "practices": practices}


def _practice(uow: UnitOfWork, key: str, version_id: int, start: datetime, end: datetime,
              reviews: list[dict[str, Any]], deviating: dict[str, list[str]]) -> dict[str, Any]:
    row = uow.session.get(ProcessVersion, version_id)
    assert row is not None
    started = list(uow.session.execute(select(ProcessInstance).where(
        ProcessInstance.process_key == key, ProcessInstance.started_at >= start,
        ProcessInstance.started_at < end).order_by(ProcessInstance.id)).scalars())
    closed = list(uow.session.execute(select(ProcessInstance).where(
        ProcessInstance.process_key == key, ProcessInstance.status == "completed", ProcessInstance.ended_at >= start,
        ProcessInstance.ended_at < end).order_by(ProcessInstance.id)).scalars())
    off = [r for r in closed if r.business_key in deviating]
    rate = round((len(closed) - len(off)) / len(closed), 3) if closed else None
    measured = _measured(uow, key, version_id, started)
    met_target = [r for r in reviews if r["target_met"]]
    compliance = measured["compliance_percent"]
    checks = [
        (2, "A documented procedure is deployed and records follow it",
         bool(started), {"version": row.version, "deployed_at": row.deployed_at.isoformat(),
                         "deployed_by": row.deployed_by, "records_started": len(started), "records": _keys(started)}),
        (3, f"It is followed: at least {int(FOLLOWED * 100)} % of the records closed have no conformance deviation",
         rate is not None and rate >= FOLLOWED,
         {"records_closed": len(closed), "conforming": len(closed) - len(off), "deviating": len(off),
          "conformance_rate": rate, "deviating_records": [{"business_key": r.business_key,
                                                            "rules": sorted(set(deviating[r.business_key]))}
                                                           for r in off[:SHOWN]]}),
        (4, "Its results are measured (SLA or KPIs tracked) and reviewed (an improvement item closed after its review)",
         measured["measured"] and bool(reviews),
         {**measured, "reviews": len(reviews), "review_records": reviews[:SHOWN]}),
        (5, "It is optimised: an improvement met its target and the measured results meet their targets",
         bool(met_target) and (not measured["sla_clocks"] or (compliance is not None
                                                              and compliance >= OPTIMISED_COMPLIANCE)),
         {"improvements_met_target": len(met_target), "records": [r["business_key"] for r in met_target[:SHOWN]],
          "compliance_percent": compliance, "compliance_needed": OPTIMISED_COMPLIANCE if measured["sla_clocks"]
          else None}),
    ]
    level, levels, reached = 1, [{"level": 1, "name": NAMES[1], "criterion": "Work happens", "met": True,
                                  "evidence": {}}], True
    for n, criterion, met, evidence in checks:
        reached = reached and met
        if reached:
            level = n
        levels.append({"level": n, "name": NAMES[n], "criterion": criterion, "met": met, "evidence": evidence})
    return {"practice": key, "name": declared.of_version(uow, version_id).name, "level": level,
            "level_name": NAMES[level], "levels": levels}


def assessment(db: Database, actor: Actor, start: datetime, end: datetime) -> dict[str, Any]:
    """assess() in its own read-only unit of work, with the declared cadences (for the pages and the API)."""
    with unit_of_work(db, readonly=True) as uow:
        result = assess(uow, actor, start, end)
        result["cadences"] = cadences.overview(uow, clock.now())
    return result


def csv_text(assessment: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(assessment))
    return buf.getvalue()


CSV_COLUMNS = ("practice", "level", "level_name", "criterion_level", "criterion", "met", "evidence")


def csv_rows(assessment: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for p in assessment["practices"]:
        for lv in p["levels"]:
            rows.append({"practice": p["practice"], "level": p["level"], "level_name": p["level_name"],
                         "criterion_level": lv["level"], "criterion": lv["criterion"], "met": lv["met"],
                         "evidence": json.dumps(lv["evidence"], sort_keys=True)})
    return rows
