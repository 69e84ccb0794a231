"""Problems and known errors. A problem links the incidents it explains (by business key; each incident's trail
says so); it yields one known error (symptom, workaround, root cause, the RFC of the permanent fix), which the
full-text index offers at first line; closing the problem once the fix RFC reports itself implemented (its
release deployed) marks the known error fixed, naming the release (fields the fix's process declares).
Every act is an audit event."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import ProcessInstance
from engine.db.models_knowledge import KnownError, Problem, ProblemIncident
from engine.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from engine.services import audit, instances, keys, knowledge_index, policy, specs
from engine.services import knowledge_input as check
from engine.services.actors import Actor
from engine.services.audit import NewEvent

PROBLEM_PREFIX = "PRB"  # shares its counter with problem records of a process: a key is never given twice
KNOWN_ERROR_PREFIX = "KE"
STATUSES = ("open", "known_error", "closed")
PROBLEM_FIELDS = {"title": (True, 200), "description": (False, 4000), "service": (False, 100)}
KNOWN_ERROR_FIELDS = {"symptom": (True, 4000), "workaround": (False, 4000), "root_cause": (False, 4000),
                      "fix_rfc": (False, 40)}


# ------------------------------------------------------------------------------------------------ views

def known_error_view(ke: KnownError, problem: Problem | None = None) -> dict[str, Any]:
    return {"key": ke.key, "kind": "known_error", "problem": problem.key if problem else None,
            "title": problem.title if problem else ke.symptom[:80], "service": problem.service if problem else "",
            "symptom": ke.symptom, "workaround": ke.workaround, "root_cause": ke.root_cause, "fix_rfc": ke.fix_rfc,
            "status": ke.status, "fixed_in_release": ke.fixed_in_release,
            "fixed_at": ke.fixed_at.isoformat() if ke.fixed_at else None, "used_count": ke.used_count,
            "helped_count": ke.helped_count, "updated_at": ke.updated_at.isoformat()}


def problem_view(uow: UnitOfWork, p: Problem) -> dict[str, Any]:
    linked = uow.session.execute(select(ProblemIncident.business_key).where(ProblemIncident.problem_id == p.id)
                                 .order_by(ProblemIncident.id)).scalars()
    ke = uow.session.execute(select(KnownError).where(KnownError.problem_id == p.id)).scalar_one_or_none()
    return {"key": p.key, "title": p.title, "description": p.description, "service": p.service,
            "status": p.status, "owner": p.owner, "closure_note": p.closure_note, "incidents": list(linked),
            "known_error": known_error_view(ke, p) if ke else None, "created_at": p.created_at.isoformat(),
            "updated_at": p.updated_at.isoformat(), "closed_at": p.closed_at.isoformat() if p.closed_at else None}


def _index(uow: UnitOfWork, p: Problem, ke: KnownError) -> None:
    body = "\n".join(x for x in (ke.symptom, ke.workaround, ke.root_cause, p.description, p.service) if x)
    knowledge_index.put(uow, ke.key, f"{p.title}. {ke.symptom}", body)


# ------------------------------------------------------------------------------------------------ reading

def _row(uow: UnitOfWork, key: str) -> Problem:
    found = uow.session.execute(select(Problem).where(Problem.key == key)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no problem {key}")
    return found


def list_problems(uow: UnitOfWork, actor: Actor, status: str | None = None) -> list[dict[str, Any]]:
    if not policy.may_read_known_errors(actor):
        raise NotAllowed("problems and known errors are for staff")
    stmt = select(Problem).order_by(Problem.id.desc())
    if status:
        if status not in STATUSES:
            raise ValidationFailed("unknown status", fields={"status": f"must be one of {', '.join(STATUSES)}"})
        stmt = stmt.where(Problem.status == status)
    return [problem_view(uow, p) for p in uow.session.execute(stmt.limit(500)).scalars()]


def get(uow: UnitOfWork, actor: Actor, key: str) -> dict[str, Any]:
    if not policy.may_read_known_errors(actor):
        raise NotAllowed("problems and known errors are for staff")
    return problem_view(uow, _row(uow, key))


def problems_of(uow: UnitOfWork, business_key: str) -> list[dict[str, str]]:
    """The problems a record is linked to (for its page)."""
    stmt = (select(Problem.key, Problem.title, Problem.status).join(ProblemIncident)
            .where(ProblemIncident.business_key == business_key).order_by(Problem.id))
    return [{"key": k, "title": t, "status": s} for k, t, s in uow.session.execute(stmt)]


# ------------------------------------------------------------------------------------------------ acts

def create(db: Database, actor: Actor, data: Any) -> dict[str, Any]:
    policy.require(actor, "problems")
    data = dict(check.body(data))
    incidents = check.keys(data.pop("incidents", None), "incidents")
    fields = check.texts(data, PROBLEM_FIELDS)
    with unit_of_work(db) as uow:
        now = clock.now()
        p = Problem(key=keys.next_key(uow, PROBLEM_PREFIX), title=fields["title"],
                    description=fields.get("description", ""), service=fields.get("service", ""), status="open",
                    owner=actor.username, closure_note="", created_at=now, updated_at=now)
        uow.session.add(p)
        uow.session.flush()
        events = [NewEvent("problem.opened", actor.username, data={"problem": p.key, "title": p.title})]
        events += _link(uow, actor, p, incidents)
        audit.append(uow, events)
        uow.commit()
        return problem_view(uow, p)


def link(db: Database, actor: Actor, key: str, data: Any) -> dict[str, Any]:
    policy.require(actor, "problems")
    incidents = check.keys(check.body(data).get("incidents"), "incidents")
    if not incidents:
        raise ValidationFailed("name the records to link", fields={"incidents": "is required"})
    with unit_of_work(db) as uow:
        p = _row(uow, key)
        if p.status == "closed":
            raise Conflict(f"{key} is closed")
        audit.append(uow, _link(uow, actor, p, incidents))
        p.updated_at = clock.now()
        uow.commit()
        return problem_view(uow, p)


def _link(uow: UnitOfWork, actor: Actor, p: Problem, incidents: list[str]) -> list[NewEvent]:
    found: dict[str, ProcessInstance] = {}
    bad: list[str] = []
    for ref in incidents:
        try:
            found[ref] = instances.find(uow, actor, ref)
        except (NotFound, NotAllowed):
            bad.append(ref)
    if bad:
        raise ValidationFailed("some records do not exist or are not yours to see",
                               fields={"incidents": f"unknown record(s): {', '.join(bad)}"})
    have = set(uow.session.execute(select(ProblemIncident.business_key)
                                   .where(ProblemIncident.problem_id == p.id)).scalars())
    events = []
    # One record named twice (by key and by id) is linked once.
    for inst in {i.id: i for i in found.values()}.values():
        if inst.business_key in have:
            continue
        uow.session.add(ProblemIncident(problem_id=p.id, business_key=inst.business_key, linked_by=actor.username,
                                        linked_at=clock.now()))
        events.append(NewEvent("problem.linked", actor.username, inst.id,
                               data={"problem": p.key, "title": p.title, "record": inst.business_key}))
    uow.session.flush()
    return events


def explains(uow: UnitOfWork, actor: Actor, problem_id: int, instance_id: int, business_key: str) -> list[NewEvent]:
    """Links a record to an open problem whose known error helped on it (no-op when linked or closed)."""
    p = uow.session.get(Problem, problem_id)
    if p is None or p.status == "closed":
        return []
    linked = uow.session.execute(select(ProblemIncident.id).where(ProblemIncident.problem_id == p.id,
                                                                  ProblemIncident.business_key == business_key)).first()
    if linked is not None:
        return []
    uow.session.add(ProblemIncident(problem_id=p.id, business_key=business_key, linked_by=actor.username,
                                    linked_at=clock.now()))
    p.updated_at = clock.now()
    return [NewEvent("problem.linked", actor.username, instance_id,
                     data={"problem": p.key, "title": p.title, "record": business_key, "through": "known error"})]


def record_known_error(db: Database, actor: Actor, key: str, data: Any) -> dict[str, Any]:
    """Creates the problem's known error, or updates it; the index follows in the same transaction."""
    policy.require(actor, "problems")
    fields = check.texts(check.body(data), KNOWN_ERROR_FIELDS, partial=True)
    with unit_of_work(db) as uow:
        p = _row(uow, key)
        if p.status == "closed":
            raise Conflict(f"{key} is closed: its known error changes no more")
        if fields.get("fix_rfc"):
            _record(uow, fields["fix_rfc"], "fix_rfc")
        ke = uow.session.execute(select(KnownError).where(KnownError.problem_id == p.id)).scalar_one_or_none()
        now = clock.now()
        if ke is None:
            if "symptom" not in fields:
                raise ValidationFailed("a known error needs its symptom", fields={"symptom": "is required"})
            ke = KnownError(key=keys.next_key(uow, KNOWN_ERROR_PREFIX), problem_id=p.id, symptom="", workaround="",
                            root_cause="", status="open", used_count=0, helped_count=0, created_at=now)
            uow.session.add(ke)
        for name, value in fields.items():
            setattr(ke, name, (value or None) if name == "fix_rfc" else value)
        ke.updated_at = now
        p.status, p.updated_at = "known_error", now
        uow.session.flush()
        _index(uow, p, ke)
        audit.append(uow, [NewEvent("known_error.recorded", actor.username,
                                    data={"problem": p.key, "known_error": ke.key, "fields": fields})])
        uow.commit()
        return problem_view(uow, p)


def _record(uow: UnitOfWork, business_key: str, field: str) -> ProcessInstance:
    inst = uow.session.execute(select(ProcessInstance).where(ProcessInstance.business_key == business_key)
                               ).scalar_one_or_none()
    if inst is None:
        raise ValidationFailed("no such record", fields={field: f"no record {business_key}"})
    return inst


def fix_state(uow: UnitOfWork, business_key: str) -> tuple[bool, str | None]:
    """(implemented, the release it went out in) of a fix record, read from the fields its process declares:
    `implemented_field` (true once the fix is in: its release deployed, or an emergency change implemented)
    and `release_field` (the release's business key)."""
    inst = _record(uow, business_key, "fix_rfc")
    declared = dict(specs.loaded(uow, inst.process_version_id).meta.properties)
    done_field, release_field = declared.get("implemented_field"), declared.get("release_field")
    if not done_field:
        raise Conflict(f"the process of {business_key} does not declare implemented_field: it cannot be a fix")
    data = json.loads(inst.data_json or "{}")
    released = data.get(release_field) if release_field else None
    return data.get(done_field) is True, released if isinstance(released, str) else None


def close(db: Database, actor: Actor, key: str, data: Any) -> dict[str, Any]:
    """Closes a problem whose fix is in (fix_state); the known error becomes fixed, naming the release."""
    policy.require(actor, "problems")
    fields = check.texts(check.body(data), {"note": (False, 4000)})
    with unit_of_work(db) as uow:
        p = _row(uow, key)
        if p.status == "closed":
            raise Conflict(f"{key} is already closed")
        ke = uow.session.execute(select(KnownError).where(KnownError.problem_id == p.id)).scalar_one_or_none()
        if ke is None or not ke.fix_rfc:
            raise Conflict(f"{key} has no known error with a fix RFC yet: record the fix first")
        done, shipped_in = fix_state(uow, ke.fix_rfc)
        if not done:
            raise Conflict(f"the fix {ke.fix_rfc} is not implemented yet: close the problem after its release")
        now = clock.now()
        ke.status, ke.fixed_in_release, ke.fixed_at, ke.updated_at = "fixed", shipped_in, now, now
        p.status, p.closure_note, p.closed_at, p.updated_at = "closed", fields.get("note", ""), now, now
        _index(uow, p, ke)
        audit.append(uow, [NewEvent("problem.closed", actor.username,
                                    data={"problem": p.key, "known_error": ke.key, "fix_rfc": ke.fix_rfc,
                                          "fixed_in_release": shipped_in, "note": p.closure_note})])
        uow.commit()
        return problem_view(uow, p)


def counts(uow: UnitOfWork) -> dict[str, int]:
    rows = uow.session.execute(select(Problem.status, func.count()).group_by(Problem.status)).all()
    return {s: n for s, n in rows}
