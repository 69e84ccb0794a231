"""Scenario tests of the shipped diagrams, plus the flow-coverage report: every sequence flow of every
diagram in processes/ must be taken by at least one scenario, or the build fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.db.database import Database, unit_of_work
from engine.db.models import ProcessInstance
from engine.diagram.metadata import read_processes
from engine.diagram.xmlsafe import parse_xml
from engine.services import instances

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
TAKEN: dict[str, set[str]] = {}
RAN: set[str] = set()


def shipped_flows() -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for bpmn in sorted(PROCESSES.glob("*/*.bpmn")):
        for pm in read_processes(parse_xml(bpmn.read_bytes())).values():
            if pm.executable:
                result[pm.id] = set(pm.flows)
    return result


def record_flows(db: Database) -> None:
    """Adds the flows every instance in this database took (read from the audit trail) to the report."""
    with unit_of_work(db) as uow:
        for inst in uow.session.execute(select(ProcessInstance)).scalars():
            TAKEN.setdefault(inst.process_key, set()).update(instances.path(uow, inst)["flows"])


@pytest.fixture
def scenario_db(sqlite_db: Database, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A fresh SQLite database; after the test, the flows its instances took count toward coverage."""
    yield sqlite_db
    RAN.add(request.node.nodeid)
    record_flows(sqlite_db)


def _coverage() -> list[tuple[str, int, int, list[str]]]:
    rows = []
    for key, all_flows in shipped_flows().items():
        taken = TAKEN.get(key, set()) & all_flows
        rows.append((key, len(taken), len(all_flows), sorted(all_flows - taken)))
    return rows


def _whole_suite(config: pytest.Config) -> bool:
    """Only a run of the whole scenario suite can judge coverage; a single test file cannot."""
    args = [str(a).rstrip("/") for a in config.args]
    return not args or any(a.endswith(("tests", "tests/processes")) or a == "." for a in args)


def pytest_sessionfinish(session, exitstatus):  # type: ignore[no-untyped-def]
    if not RAN:
        return
    rows = _coverage()
    session.config._itsmflow_coverage = rows
    missing = sum(len(r[3]) for r in rows)
    if missing and _whole_suite(session.config) and session.exitstatus == 0:
        session.config._itsmflow_coverage_failed = missing
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    rows = getattr(config, "_itsmflow_coverage", None)
    if rows is None:
        return
    tr = terminalreporter
    tr.write_sep("=", "diagram flow coverage (scenario tests)")
    for key, taken, total, missing in rows:
        tr.write_line(f"{key:<12} {taken:>3}/{total:<3} flows taken"
                      + (f"   never taken: {', '.join(missing)}" if missing else ""))
    failed = getattr(config, "_itsmflow_coverage_failed", 0)
    if failed:
        tr.write_line(f"FAIL: {failed} sequence flow(s) never taken by any scenario", red=True)
