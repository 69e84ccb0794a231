"""Instance migration, in bulk, with a dry run: running instances of one version of a process moved onto another.

The dry run says, per instance, whether it can move, how each element it waits in maps (by id, or by the
owner's explicit map) and why not where it cannot. Applying moves the movable ones in one transaction and one
audited act (`migration.applied`, with the reason), each instance with its own `instance.migrated` event.
An instance that stopped being movable since the dry run is skipped and reported, never forced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, or_, select

from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import HumanTask, ProcessInstance, ProcessVersion, TaskCandidate
from engine.errors import BadRequest
from engine.services import audit, declared, deploy, parties, policy, record_index, specs, stepping
from engine.services.actors import Actor
from engine.services.audit import NewEvent
from engine.spiff import migrate
from engine.spiff.runtime import Runner

OPEN = ("running", "waiting", "error")
MAX_INSTANCES = 500


@dataclass
class InstancePlan:
    id: int
    business_key: str
    status: str
    version: int
    movable: bool
    reasons: list[str] = field(default_factory=list)
    live: list[dict[str, Any]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "business_key": self.business_key, "status": self.status, "version": self.version,
                "movable": self.movable, "reasons": self.reasons, "elements": self.live, "changed": self.changed}


@dataclass
class Request:
    key: str
    from_version: int
    to_version: int
    mapping: dict[str, str]
    instances: list[int | str] | None  # ids or business keys; None: every open instance of the source version


def _may_migrate(actor: Actor) -> None:
    policy.require(actor, "migrate")


def parse_request(key: str, body: dict[str, Any]) -> Request:
    """The body of a dry run or apply: from_version, to_version, optional mapping {old id: new id} and
    instances [ids]."""
    fields: dict[str, str] = {}
    versions = {}
    for name in ("from_version", "to_version"):
        value = body.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            fields[name] = "must be a version number"
        versions[name] = value
    mapping = body.get("mapping") or {}
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) and k and v
                                                 for k, v in mapping.items()):
        fields["mapping"] = "must map element ids of the source version to element ids of the target"
    chosen = body.get("instances")
    if chosen is not None and (not isinstance(chosen, list) or not all(
            (isinstance(i, int) and not isinstance(i, bool)) or (isinstance(i, str) and i) for i in chosen)):
        fields["instances"] = "must be a list of instance ids or business keys"
    if chosen is not None and isinstance(chosen, list) and len(chosen) > MAX_INSTANCES:
        fields["instances"] = f"at most {MAX_INSTANCES} per migration"
    if not fields and versions["from_version"] == versions["to_version"]:
        fields["to_version"] = "must differ from from_version"
    if fields:
        raise BadRequest("the migration request is not valid", fields=fields)
    return Request(key, int(body["from_version"]), int(body["to_version"]), dict(mapping),
                   list(dict.fromkeys(chosen)) if chosen is not None else None)


def _versions(uow: UnitOfWork, req: Request) -> tuple[ProcessVersion, ProcessVersion]:
    source = deploy.get_version(uow, req.key, req.from_version)
    target = deploy.get_version(uow, req.key, req.to_version)
    old_ids = set(json.loads(source.meta_json)["elements"])
    new_ids = set(json.loads(target.meta_json)["elements"])
    unknown = {k: f"v{req.from_version} has no element {k!r}" for k in req.mapping if k not in old_ids}
    unknown |= {v: f"v{req.to_version} has no element {v!r}" for v in req.mapping.values() if v not in new_ids}
    if unknown:
        raise BadRequest("the element map names elements that do not exist", fields=unknown)
    return source, target


def _candidates(uow: UnitOfWork, req: Request) -> list[ProcessInstance]:
    stmt = select(ProcessInstance).where(ProcessInstance.process_key == req.key).order_by(ProcessInstance.id)
    if req.instances is None:
        stmt = stmt.where(ProcessInstance.version == req.from_version, ProcessInstance.status.in_(OPEN))
        return list(uow.session.execute(stmt.limit(MAX_INSTANCES)).scalars())
    ids = [i for i in req.instances if isinstance(i, int)]
    keys = [i for i in req.instances if isinstance(i, str)]
    return list(uow.session.execute(stmt.where(or_(ProcessInstance.id.in_(ids),
                                                   ProcessInstance.business_key.in_(keys)))).scalars())


def _missing(req: Request, plans: list[InstancePlan]) -> list[int | str]:
    known = {p.id for p in plans} | {p.business_key for p in plans}
    return [i for i in (req.instances or []) if i not in known]


def _plan_one(uow: UnitOfWork, inst: ProcessInstance, req: Request, target: specs.LoadedVersion
              ) -> tuple[InstancePlan, Runner | None, migrate.Plan | None]:
    plan = InstancePlan(inst.id, inst.business_key, inst.status, inst.version, False)
    if inst.version != req.from_version:
        plan.reasons.append(f"it runs on v{inst.version}, not v{req.from_version}")
        return plan, None, None
    if inst.status not in OPEN:
        plan.reasons.append(f"it is {inst.status}")
        return plan, None, None
    if inst.status == "error":
        plan.reasons.append("it is in error: retry or fix it first")
    runner, _ = stepping.restore(uow, inst)
    found = migrate.plan(runner.workflow, target.spec, target.subprocess_specs, req.mapping)
    plan.reasons += [r for r in found.reasons if r not in plan.reasons]
    plan.live = [e.to_dict() for e in found.live]
    plan.changed = found.changed
    plan.movable = not plan.reasons
    return plan, runner, found


def _summary(req: Request, plans: list[InstancePlan], missing: list[int | str]) -> dict[str, Any]:
    unknown = [{"id": i if isinstance(i, int) else None, "business_key": i if isinstance(i, str) else None,
                "status": None, "version": None, "movable": False, "reasons": ["no such instance of this process"],
                "elements": [], "changed": []} for i in missing]
    return {"key": req.key, "from_version": req.from_version, "to_version": req.to_version, "mapping": req.mapping,
            "instances": [p.to_dict() for p in plans] + unknown, "movable": sum(1 for p in plans if p.movable),
            "blocked": sum(1 for p in plans if not p.movable) + len(missing)}


def dry_run(db: Database, actor: Actor, req: Request) -> dict[str, Any]:
    """What applying would do, changing nothing."""
    _may_migrate(actor)
    with unit_of_work(db, readonly=True) as uow:
        _, target_row = _versions(uow, req)
        target = specs.loaded(uow, target_row.id)
        found = _candidates(uow, req)
        plans = [_plan_one(uow, inst, req, target)[0] for inst in found]
    return _summary(req, plans, _missing(req, plans))


def apply(db: Database, actor: Actor, req: Request, reason: str) -> dict[str, Any]:
    """Moves every movable instance onto the target version, in one transaction and one audited act."""
    _may_migrate(actor)
    if not reason.strip():
        raise BadRequest("say why the instances move", fields={"reason": "required"})
    with unit_of_work(db) as uow:
        source_row, target_row = _versions(uow, req)
        target = specs.loaded(uow, target_row.id)
        plans = []
        for candidate in _candidates(uow, req):
            inst = stepping.lock_instance(uow, candidate.id)
            plan, runner, found = _plan_one(uow, inst, req, target)
            if plan.movable and runner is not None and found is not None:
                _move(uow, actor, inst, runner, target, source_row, req, reason.strip(), found)
                plan.version = target.version
            plans.append(plan)
        result = _summary(req, plans, _missing(req, plans))
        moved = [p.business_key for p in plans if p.movable]
        audit.append(uow, [NewEvent("migration.applied", actor.username, element_id=req.key, element_name=req.key,
                                    data={"key": req.key, "from_version": req.from_version,
                                          "to_version": req.to_version, "mapping": req.mapping,
                                          "reason": reason.strip(), "moved": moved,
                                          "skipped": {p.business_key or str(p.id): p.reasons
                                                      for p in plans if not p.movable}})])
        uow.commit()
    result["reason"] = reason.strip()
    result["moved"] = moved
    return result


def _move(uow: UnitOfWork, actor: Actor, inst: ProcessInstance, runner: Runner, target: specs.LoadedVersion,
          source_row: ProcessVersion, req: Request, reason: str, found: migrate.Plan) -> None:
    migrate.apply(runner.workflow, target.spec, target.subprocess_specs, req.mapping)
    # The state must read back against the target's spec before anything is written.
    moved = Runner.restore(runner.state(), target.spec, target.subprocess_specs, runner.engine.decide)
    log = moved.run()
    _retarget_tasks(uow, inst, moved, target)
    # Pinned to the target first (its own versioned UPDATE, under the row lock), so the step below is saved
    # against the version it now runs on.
    inst.process_version_id, inst.version = target.id, target.version
    uow.session.flush()
    seen = inst.revision
    event = NewEvent("instance.migrated", actor.username, inst.id,
                     data={"from_version": req.from_version, "to_version": target.version,
                           "from_version_id": source_row.id, "to_version_id": target.id,
                           "mapping": found.mapping(), "explicit": req.mapping, "changed": found.changed,
                           "reason": reason})
    stepping.save_step(uow, inst, moved, target, log, actor.username, [event], seen)
    decl = declared.of_version(uow, target.id)
    if decl != declared.of_version(uow, source_row.id):
        # The step kept the rows derived from the data as the data changed; the target may derive them from
        # other fields (another requester or service field), so they are written afresh.
        data = json.loads(inst.data_json)
        parties.sync(uow, inst, decl, None, data)
        record_index.sync(uow, inst, decl, data, None)


def _retarget_tasks(uow: UnitOfWork, inst: ProcessInstance, runner: Runner, target: specs.LoadedVersion) -> None:
    """Open tasks keep their ids (and claims): what they are (element, name, lane, roles) comes from the target.
    Done before the step is saved, which then only adds and withdraws tasks as usual."""
    ready = {t.task_id: t for t in runner.ready_tasks()}
    rows = uow.session.execute(select(HumanTask).where(HumanTask.instance_id == inst.id)).scalars()
    for row in rows:
        row.process_version_id = target.id  # the tasks run on the target too (the inbox tally counts by version)
        task = ready.get(row.id)
        el = target.meta.elements.get(task.element_id) if task is not None else None
        if task is None or el is None:
            continue
        roles = list(el.roles)
        row.element_id, row.name, row.lane = el.id, task.name, el.lane
        row.approval = el.is_approval
        if json.loads(row.roles_json) != roles:
            row.roles_json = json.dumps(roles)
            uow.session.execute(delete(TaskCandidate).where(TaskCandidate.task_id == row.id))
            uow.session.add_all([TaskCandidate(task_id=row.id, role=r, created_at=row.created_at) for r in roles])
    uow.session.flush()


def versions_with_open_instances(db: Database, actor: Actor, key: str) -> dict[str, Any]:
    """For the migration page: the process's versions, with how many open instances each has."""
    _may_migrate(actor)
    with unit_of_work(db, readonly=True) as uow:
        versions = deploy.list_versions(uow, key)
        counts: dict[int, int] = dict(uow.session.execute(
            select(ProcessInstance.version, func.count()).where(ProcessInstance.process_key == key,
                                                                ProcessInstance.status.in_(OPEN))
            .group_by(ProcessInstance.version)).tuples().all())
    return {"key": key, "versions": [{**v, "open": counts.get(v["version"], 0)} for v in versions]}
