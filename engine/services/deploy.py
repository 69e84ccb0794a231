"""Deploying a process bundle (BPMN plus DMN files) as a new immutable version, after validation."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from sqlalchemy import bindparam, func, select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.driver import Prepared
from engine.db.models import ProcessVersion
from engine.diagram import declarations, foreign, governance, refusals, sla_declarations
from engine.diagram.metadata import NS, ROLES, ProcessMeta, read_processes
from engine.diagram.roles import apply_default_role
from engine.diagram.validate import check_process
from engine.diagram.xmlsafe import UnsafeXml, parse_xml
from engine.errors import DeploymentRefused, NotFound
from engine.services import audit, callees, decisions, message_retry, modeller_settings, policy
from engine.services.actors import Actor
from engine.services.decisions import DmnFile
from engine.spiff import serializer
from engine.spiff.parser import parse_specs
from engine.spiff.sandbox import check_expression, compile_script, literal_timer


@dataclass
class Bundle:
    bpmn: bytes
    filename: str = "process.bpmn"
    dmn: list[DmnFile] = field(default_factory=list)
    lanes: dict[str, str] = field(default_factory=dict)  # lane name -> role, for lanes not named after a role
    origin: str = "api"  # where the version comes from: seed, modeller, upload, api, cli, rollback, proposal
    comment: str = ""  # the deployer's note, shown in the version list and the trail
    default_role: str | None = None  # who gets tasks the diagram names nobody for; None: the organisation's


@dataclass
class Deployed:
    key: str
    version: int
    id: int
    decisions: list[str]
    unchanged: bool = False
    warnings: list[dict[str, Any]] = field(default_factory=list)


def _executable(processes: dict[str, ProcessMeta], key: str | None) -> ProcessMeta | None:
    if key is not None:
        return processes.get(key)
    executable = [p for p in processes.values() if p.executable]
    return executable[0] if len(executable) == 1 else None


def _diff(old: ProcessMeta | None, new: ProcessMeta) -> dict[str, list[str]]:
    if old is None:
        return {"added": sorted(new.elements), "removed": [], "changed": []}
    before, after = old.to_dict()["elements"], new.to_dict()["elements"]
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": sorted(k for k in set(after) & set(before) if after[k] != before[k]),
    }


def deploy(db: Database, bundle: Bundle, actor: Actor, key: str | None = None) -> Deployed:
    policy.require(actor, "deploy")
    with unit_of_work(db) as uow:
        result = deploy_in(uow, bundle, actor, key)
        uow.commit()
        return result


@dataclass
class Checked:
    """A bundle that passed validation, with what storing it needs."""

    pm: ProcessMeta
    spec: Any
    subs: Any
    models: dict[str, Any]
    bundled_decisions: set[str]
    spec_dict: dict[str, Any] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)  # call activities to other deployed processes


def deploy_in(uow: UnitOfWork, bundle: Bundle, actor: Actor, key: str | None = None) -> Deployed:
    return store_checked(uow, bundle, check_bundle(uow, bundle, key), actor)


def check_bundle(uow: UnitOfWork, bundle: Bundle, key: str | None = None) -> Checked:
    """Validates a bundle against what is deployed; raises DeploymentRefused listing every problem (each with
    the element, its line and what to change). Stores nothing. No input makes it fail otherwise."""
    try:
        return _check_bundle(uow, bundle, key)
    except DeploymentRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the engine raised, the uploader gets a refusal
        problem = refusals.from_engine(exc)
        raise DeploymentRefused(problem["message"], problems=[problem]) from None


def _default_role(bundle: Bundle) -> str | None:
    if bundle.default_role is None:
        return modeller_settings.default_task_role()
    if bundle.default_role not in ROLES:
        message = f"default role {bundle.default_role!r} is not a role (roles: {', '.join(ROLES)})"
        raise DeploymentRefused(message, problems=[{"element_id": None, "field": "default_role", "message": message}])
    return bundle.default_role


def _check_bundle(uow: UnitOfWork, bundle: Bundle, key: str | None = None) -> Checked:
    problems: list[dict[str, Any]] = []
    try:
        root = parse_xml(bundle.bpmn, bundle.filename)
    except UnsafeXml as exc:
        raise DeploymentRefused(str(exc), problems=[{"element_id": None, "message": str(exc)}]) from None
    if root.tag != f"{{{NS['bpmn']}}}definitions":
        raise DeploymentRefused("not a BPMN 2.0 document",
                                problems=[{"element_id": None, "message": "the root element is not bpmn:definitions"}])
    flow_warnings = (foreign.name_unnamed_flows(root) + foreign.make_splits_explicit(root)
                     + foreign.data_warnings(root))
    problems.extend(foreign.delegate_problems(root) + foreign.message_problems(root))
    problems.extend(foreign.expression_problems(root, check_expression))
    processes = read_processes(root, bundle.lanes)
    pm = _executable(processes, key)
    if pm is not None and not bundle.lanes:
        # An edited diagram uploaded without lanes.json keeps the lane mapping of the version it came from.
        before = latest(uow, pm.id)
        if before is not None:
            inherited = {lane: role for lane, role in json.loads(before.meta_json)["lanes"].items() if role}
            processes = read_processes(root, inherited)
            pm = _executable(processes, key)
    if pm is None:
        message = (f"no process with id {key!r} in the file" if key
                   else "the file must hold exactly one executable process")
        raise DeploymentRefused(message, problems=[{"element_id": key, "message": message}])
    role = _default_role(bundle)
    warnings = flow_warnings + (apply_default_role(pm, role) if role else [])
    for warning in warnings:
        warning.setdefault("line", refusals.line_of(root, warning.get("element_id")))

    models = {}
    for dmn in bundle.dmn:
        if dmn.tests is None:
            dmn.tests = _stored_tests_in(uow, dmn)
        model, dmn_problems = decisions.check_dmn(dmn)
        problems.extend(dmn_problems)
        if model is not None:
            models[dmn.name] = (dmn, model)
    bundled_decisions = {d for _, m in models.values() for d in m.decisions}
    known_decisions = decisions.known_keys(uow) | bundled_decisions
    known_processes = set(processes) | set(uow.session.execute(select(ProcessVersion.key).distinct()).scalars())
    problems.extend(check_process(pm, known_decisions, known_processes, check_expression, compile_script,
                                  literal_timer))
    problems.extend(declarations.problems(pm, ROLES))
    problems.extend(sla_declarations.problems(pm, known_decisions))
    problems.extend(governance.problems(pm))
    resolved = callees.resolve(uow, root)
    problems.extend(resolved.problems + callees.merge_meta(pm, resolved))
    spec = subs = None
    spec_dict: dict[str, Any] = {}
    try:
        if not resolved.problems:  # a call to a process that is not deployed: the engine would only repeat it
            spec, subs = parse_specs(root, bundle.filename, pm.id, resolved.roots)
            spec_dict = serializer.spec_to_dict(spec, subs)
            json.dumps(spec_dict)
    except Exception as exc:  # noqa: BLE001 - the engine's parser raises many types; all refuse the bundle
        problems.append(refusals.from_engine(exc))
    if problems:
        refusals.with_lines(root, problems)
        raise DeploymentRefused(f"{len(problems)} problem(s) in the bundle", problems=problems)
    return Checked(pm, spec, subs, models, bundled_decisions, spec_dict, warnings, resolved.calls)


def xml_text(bundle: Bundle) -> str:
    """The diagram as stored text: as sent when it is UTF-8, else re-serialized without its (now wrong)
    encoding declaration."""
    try:
        return bundle.bpmn.decode("utf-8")
    except UnicodeDecodeError:
        return etree.tostring(parse_xml(bundle.bpmn, bundle.filename), encoding="unicode")


def bundle_sha(bundle: Bundle) -> str:
    return hashlib.sha256(bundle.bpmn + b"".join(d.xml for d in bundle.dmn)).hexdigest()


def store_checked(uow: UnitOfWork, bundle: Bundle, checked: Checked, actor: Actor) -> Deployed:
    """Stores a validated bundle as the next version (and its changed tables), unless it equals the latest."""
    pm, spec, subs, models, bundled_decisions = (checked.pm, checked.spec, checked.subs, checked.models,
                                                 checked.bundled_decisions)
    previous = latest(uow, pm.id)
    sha = bundle_sha(bundle)
    if previous is not None and previous.sha256 == sha:
        return Deployed(pm.id, previous.version, previous.id, sorted(bundled_decisions), unchanged=True,
                        warnings=checked.warnings)
    events = []
    for dmn, model in models.values():
        events.extend(decisions.store_decisions(uow, dmn, model, actor, bundle.origin, bundle.comment))
    version = (previous.version if previous else 0) + 1
    row = ProcessVersion(
        key=pm.id, version=version, name=pm.name, bpmn_xml=xml_text(bundle), sha256=sha,
        spec_json=json.dumps(checked.spec_dict or serializer.spec_to_dict(spec, subs)),
        meta_json=json.dumps({**pm.to_dict(), "calls": checked.calls}),
        deployed_by=actor.username, deployed_at=clock.now(), origin=bundle.origin,
        comment=bundle.comment,
    )
    uow.session.add(row)
    uow.session.flush()
    old_meta = ProcessMeta.from_dict(json.loads(previous.meta_json)) if previous else None
    events.append(audit.NewEvent(
        "process.deployed", actor.username, element_id=pm.id, element_name=pm.name,
        data={"key": pm.id, "version": version, "sha256": sha, "diff": _diff(old_meta, pm),
              "decisions": sorted(bundled_decisions), "origin": bundle.origin, "comment": bundle.comment},
    ))
    audit.append(uow, events)
    message_retry.wake(uow, pm.message_starts())
    return Deployed(pm.id, version, row.id, sorted(bundled_decisions), warnings=checked.warnings)


def latest(uow: UnitOfWork, key: str) -> ProcessVersion | None:
    stmt = select(ProcessVersion).where(ProcessVersion.key == key).order_by(ProcessVersion.version.desc())
    return uow.session.execute(stmt.limit(1)).scalar_one_or_none()


# Asked at every start, so run on the driver's cursor. Not cached: another process may deploy a newer version
# at any time (the rows of a version never change, which version is newest does).
_NEWEST = Prepared(select(ProcessVersion.id, ProcessVersion.version).where(ProcessVersion.key == bindparam("key"))
                   .order_by(ProcessVersion.version.desc()).limit(1))


def newest(uow: UnitOfWork, key: str) -> tuple[int, int] | None:
    """(id, version) of a process's newest version: what a start needs, without reading its documents."""
    row = _NEWEST.one_or_none(uow, {"key": key})
    return None if row is None else (row[0], row[1])


def get_version(uow: UnitOfWork, key: str, version: int) -> ProcessVersion:
    stmt = select(ProcessVersion).where(ProcessVersion.key == key, ProcessVersion.version == version)
    row = uow.session.execute(stmt).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no version {version} of process {key}")
    return row


def version_view(row: ProcessVersion) -> dict[str, Any]:
    return {"key": row.key, "name": row.name, "version": row.version, "sha256": row.sha256,
            "deployed_by": row.deployed_by, "deployed_at": row.deployed_at.isoformat(), "origin": row.origin,
            "comment": row.comment}


def list_latest(uow: UnitOfWork) -> list[dict[str, Any]]:
    newest = (select(ProcessVersion.key, func.max(ProcessVersion.version).label("v"))
              .group_by(ProcessVersion.key).subquery())
    stmt = (select(ProcessVersion)
            .join(newest, (ProcessVersion.key == newest.c.key) & (ProcessVersion.version == newest.c.v))
            .order_by(ProcessVersion.key))
    return [version_view(r) for r in uow.session.execute(stmt).scalars()]


def list_versions(uow: UnitOfWork, key: str) -> list[dict[str, Any]]:
    stmt = select(ProcessVersion).where(ProcessVersion.key == key).order_by(ProcessVersion.version)
    rows = [version_view(r) for r in uow.session.execute(stmt).scalars()]
    if not rows:
        raise NotFound(f"no process {key}")
    return rows


def deploy_decisions(db: Database, dmn: DmnFile, actor: Actor, key: str | None = None, *, origin: str = "api",
                     comment: str = "") -> dict[str, Any]:
    """Deploys a DMN file on its own: a new version of each decision in it that changed."""
    policy.require(actor, "deploy")
    if dmn.tests is None:
        dmn.tests = _stored_tests(db, dmn)  # a new version must still pass the examples the table shipped with
    model, problems = decisions.check_dmn(dmn)
    if model is not None and key is not None and key not in model.decisions:
        problems.append({"element_id": key, "message": f"the file has no decision with id {key!r}"})
    if problems or model is None:
        raise DeploymentRefused(f"{len(problems)} problem(s) in the decision table", problems=problems)
    with unit_of_work(db) as uow:
        events = decisions.store_decisions(uow, dmn, model, actor, origin, comment)
        audit.append(uow, events)
        uow.commit()
        versions = {d: decisions.latest_version(uow, d) for d in model.decisions}
    named = versions.get(key) if key else None
    return {"key": key, "versions": {d: v.version for d, v in versions.items() if v is not None},
            "version": named.version if named else None}


def _stored_tests(db: Database, dmn: DmnFile) -> str | None:
    with unit_of_work(db) as uow:
        return _stored_tests_in(uow, dmn)


def _stored_tests_in(uow: UnitOfWork, dmn: DmnFile) -> str | None:
    model, _ = decisions.check_dmn(DmnFile(dmn.name, dmn.xml))
    if model is None:
        return None
    for decision_id in model.decisions:
        row = decisions.latest_version(uow, decision_id)
        if row is not None and row.tests_json not in ("", "[]"):
            return row.tests_json
    return None
