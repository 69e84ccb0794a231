"""Lint warnings for a diagram before it deploys (engine/diagram/lint.py), read with the lane mapping it would
deploy with and checked against the roles the active users hold."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import User, UserRole
from engine.diagram.lint import lint_process
from engine.diagram.metadata import read_processes
from engine.diagram.xmlsafe import UnsafeXml, parse_xml
from engine.errors import BadRequest
from engine.services import deploy, policy
from engine.services.actors import Actor

Warning = dict[str, Any]


def held_roles(uow: UnitOfWork) -> frozenset[str]:
    stmt = select(UserRole.role).join(User, User.id == UserRole.user_id).where(User.active.is_(True)).distinct()
    return frozenset(uow.session.execute(stmt).scalars())


def lane_mapping(uow: UnitOfWork, key: str, lanes: dict[str, str] | None) -> dict[str, str]:
    """The lanes the diagram would deploy with: the ones sent, else those of the latest version (a redeploy
    from the modeller keeps them)."""
    if lanes:
        return lanes
    row = deploy.latest(uow, key)
    if row is None:
        return {}
    return {lane: role for lane, role in json.loads(row.meta_json)["lanes"].items() if role}


def warnings_in(uow: UnitOfWork, key: str, bpmn: bytes, lanes: dict[str, str] | None = None) -> list[Warning]:
    try:
        root = parse_xml(bpmn, "the diagram")
    except UnsafeXml as exc:
        raise BadRequest(str(exc)) from None
    pm = read_processes(root, lane_mapping(uow, key, lanes)).get(key)
    if pm is None:
        raise BadRequest(f"the diagram has no process with id {key!r}")
    return lint_process(root, pm, held_roles(uow))


def lint_bpmn(db: Database, actor: Actor, key: str, bpmn: bytes, lanes: dict[str, str] | None = None
              ) -> list[Warning]:
    policy.require(actor, "deploy")
    with unit_of_work(db, readonly=True) as uow:
        return warnings_in(uow, key, bpmn, lanes)
