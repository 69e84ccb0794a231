"""Helpers for tests: deploy bundled processes, find tasks, complete them the way a user would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.db.database import Database, unit_of_work
from engine.services import audit, deploy, instances, tasks
from engine.services.actors import Actor
from engine.services.bundles import folder_bundle
from engine.services.deploy import Bundle

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
OWNER = Actor("grace", frozenset({"process_owner", "requester"}))
AUDITOR = Actor("heidi", frozenset({"auditor"}))


def deploy_process(db: Database, name: str) -> deploy.Deployed:
    bundle = folder_bundle(PROCESSES / name)
    assert bundle is not None, name
    return deploy.deploy(db, bundle, OWNER)


def deploy_xml(db: Database, xml: str, dmn: list[Any] | None = None, key: str | None = None) -> deploy.Deployed:
    return deploy.deploy(db, Bundle(xml.encode(), "test.bpmn", dmn or []), OWNER, key=key)


def open_tasks(db: Database, business_key: str) -> list[dict[str, Any]]:
    with unit_of_work(db) as uow:
        inst = instances.find(uow, AUDITOR, business_key)
        return [tasks.task_summary(t) for t in instances.tasks_of(uow, inst)]


def task_for(db: Database, business_key: str, element_id: str) -> dict[str, Any]:
    found = [t for t in open_tasks(db, business_key) if t["element_id"] == element_id]
    open_ids = [t["element_id"] for t in open_tasks(db, business_key)]
    assert found, f"{element_id} is not open on {business_key}: {open_ids}"
    return found[0]


def do(db: Database, actor: Actor, business_key: str, element_id: str, data: dict[str, Any] | None = None,
       claim: bool = True) -> dict[str, Any]:
    task = task_for(db, business_key, element_id)
    if claim:
        tasks.claim(db, actor, task["id"])
    return tasks.complete(db, actor, task["id"], data or {})


def instance(db: Database, business_key: str) -> dict[str, Any]:
    with unit_of_work(db) as uow:
        inst = instances.find(uow, AUDITOR, business_key)
        return instances.view(uow, inst)


def events(db: Database, business_key: str, kind: str | None = None) -> list[dict[str, Any]]:
    """The instance's audit events as the API shows them, all or of one type."""
    with unit_of_work(db) as uow:
        inst = instances.find(uow, AUDITOR, business_key)
        return [audit.event_view(e) for e in audit.instance_events(uow, inst.id) if kind in (None, e.type)]


def task_ids(db: Database, business_key: str) -> list[str]:
    return [t["element_id"] for t in open_tasks(db, business_key)]


def data(db: Database, business_key: str) -> dict[str, Any]:
    return instance(db, business_key)["data"]
