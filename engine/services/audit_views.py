"""What the audit API reads, as plain data or text lines: one unit of work each, so no session reaches web/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.db.database import Database, unit_of_work
from engine.services import audit, audit_bundle, conformance, reports
from engine.services.actors import Actor


def verify(db: Database) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        # The checkpoint file, when there is one, is shared with test runs and other databases: entries of
        # other chains are skipped here; `itsmflow audit verify --checkpoints FILE` checks it strictly.
        return audit.verify(uow, audit.checkpoint_file(), strict=False).to_dict()


def export(db: Database, kind: str, start: datetime | None, end: datetime | None) -> Iterator[str]:
    """The trail in the window as CSV or JSON lines, streamed from one read-only transaction."""
    with unit_of_work(db, readonly=True) as uow:
        if kind == "csv":
            yield from audit_bundle.export_csv(uow, start, end)
        else:
            for line in audit_bundle.export_lines(uow, start, end):
                yield line + "\n"


def conformance_report(db: Database, process: str | None, start: datetime | None,
                       end: datetime | None) -> dict[str, Any]:
    found = deviations(db, process, start, end)
    return {"ok": not found, "deviations": [d.to_dict() for d in found], "summary": conformance.summary(found)}


def verify_chain(db: Database, checkpoints: Path | None) -> audit.Verification:
    """The command line's check: strict against a checkpoint file it names, else lenient against the configured one."""
    with unit_of_work(db, readonly=True) as uow:
        if checkpoints is not None:
            return audit.verify(uow, checkpoints, strict=True)
        return audit.verify(uow, audit.checkpoint_file(), strict=False)


def checkpoint(db: Database) -> dict[str, Any] | None:
    with unit_of_work(db) as uow:
        written = audit.write_checkpoint(uow)
        uow.commit()
        return written


def export_lines(db: Database, start: datetime | None, end: datetime | None) -> Iterator[str]:
    """The bundle's JSON lines (no line ends), from one read-only transaction."""
    with unit_of_work(db, readonly=True) as uow:
        yield from audit_bundle.export_lines(uow, start, end)


def deviations(db: Database, process: str | None, start: datetime | None,
               end: datetime | None) -> list[conformance.Deviation]:
    with unit_of_work(db, readonly=True) as uow:
        return conformance.report(uow, process, start, end)


def trail_page(db: Database, actor: Actor, f: reports.TrailFilter, before: int | None) -> dict[str, Any]:
    """The auditors' trail page: a page of events, the chain's integrity, and the choices of the filter."""
    with unit_of_work(db, readonly=True) as uow:
        events, next_cursor = reports.trail(uow, actor, f, 100, before)
        return {"events": events, "next_cursor": next_cursor, "verification": reports.verify_trail(uow, actor),
                "types": reports.event_types(uow), "processes": reports.process_keys(uow)}
