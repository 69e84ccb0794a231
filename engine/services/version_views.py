"""What the owners' pages and the API read about deployed versions of processes and tables, as plain data. Each
function opens its own unit of work, so no ORM row or session reaches web/."""

from __future__ import annotations

from typing import Any

from engine.db.database import Database, unit_of_work
from engine.services import decisions, deploy, diffs, reports
from engine.services.actors import Actor
from engine.services.diffs import VersionDiff


def processes(db: Database) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return deploy.list_latest(uow)


def process_versions(db: Database, key: str) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return deploy.list_versions(uow, key)


def process_bpmn(db: Database, key: str, version: int) -> str:
    with unit_of_work(db, readonly=True) as uow:
        return deploy.get_version(uow, key, version).bpmn_xml


def decision_versions(db: Database, key: str) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return decisions.list_versions(uow, key)


def decision_dmn(db: Database, key: str, version: int) -> str:
    with unit_of_work(db, readonly=True) as uow:
        return decisions.get_version(uow, key, version).dmn_xml


def catalogue(db: Database, actor: Actor) -> dict[str, list[dict[str, Any]]]:
    with unit_of_work(db, readonly=True) as uow:
        return reports.catalogue(uow, actor)


def modeller_context(db: Database, key: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The versions of a process and the lane mapping of its latest, for the modeller page."""
    with unit_of_work(db, readonly=True) as uow:
        return deploy.list_versions(uow, key), diffs.lane_mapping(uow, key)


def process_diff(db: Database, actor: Actor, key: str, base: int | None,
                 target: int | None) -> tuple[list[dict[str, Any]], int, int, VersionDiff]:
    """Two versions compared (by default the latest against the one before); with the version list."""
    with unit_of_work(db, readonly=True) as uow:
        versions = deploy.list_versions(uow, key)
        target = target or versions[-1]["version"]
        base = target - 1 if base is None else base
        return versions, base, target, diffs.versions(uow, actor, key, base, target)


def draft_diff(db: Database, actor: Actor, key: str, bpmn: bytes) -> VersionDiff:
    with unit_of_work(db, readonly=True) as uow:
        return diffs.draft(uow, actor, key, bpmn)
