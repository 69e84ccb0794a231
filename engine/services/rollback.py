"""Rollback: an earlier version of a process or table deployed again as a new version (never by rewriting
history). Running records stay on their versions; new ones use the rolled-back content."""

from __future__ import annotations

import json
from typing import Any

from engine.db.database import Database, unit_of_work
from engine.errors import Conflict
from engine.services import decisions, deploy, policy
from engine.services.actors import Actor
from engine.services.decisions import DmnFile
from engine.services.deploy import Bundle


def _owner(actor: Actor) -> None:
    policy.require(actor, "deploy")


def _comment(version: int, comment: str) -> str:
    return f"rollback to v{version}" + (f": {comment.strip()}" if comment.strip() else "")


def rollback_process(db: Database, actor: Actor, key: str, version: int, comment: str = "") -> dict[str, Any]:
    """Deploys version `version` of `key` (its diagram with the lane mapping it had) as the next version."""
    _owner(actor)
    with unit_of_work(db) as uow:
        old = deploy.get_version(uow, key, version)
        latest = deploy.latest(uow, key)
        assert latest is not None  # get_version found one
        if latest.version == version:
            raise Conflict(f"v{version} of {key} is already the version in force")
        lanes = {lane: role for lane, role in json.loads(old.meta_json)["lanes"].items() if role}
        bundle = Bundle(old.bpmn_xml.encode("utf-8"), f"{key}.bpmn", [], lanes, "rollback",
                        _comment(version, comment))
        done = deploy.deploy_in(uow, bundle, actor, key)
        if done.unchanged:
            raise Conflict(f"v{latest.version} of {key} already has the content of v{version}")
        uow.commit()
    return {"key": key, "version": done.version, "rolled_back_to": version}


def rollback_decision(db: Database, actor: Actor, key: str, version: int, comment: str = "") -> dict[str, Any]:
    """Deploys version `version` of table `key`, with the examples it had, as the next version."""
    _owner(actor)
    with unit_of_work(db, readonly=True) as uow:
        old = decisions.get_version(uow, key, version)
        latest = decisions.latest_version(uow, key)
        assert latest is not None
        if latest.version == version or latest.sha256 == old.sha256:
            raise Conflict(f"v{latest.version} of table {key} already has the content of v{version}")
        dmn = DmnFile(f"{key}.dmn", old.dmn_xml.encode("utf-8"), old.tests_json or "[]")
    done = deploy.deploy_decisions(db, dmn, actor, key, origin="rollback", comment=_comment(version, comment))
    return {"key": key, "version": done["version"], "rolled_back_to": version}
