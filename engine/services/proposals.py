"""Proposals from the bundled processes (engine/services/seeding.py): what changed against the version in force,
and the owner's answer. Accepting deploys the bundled file as a new version; dismissing keeps the owner's
version and stops the same file from being offered again."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import SeedProposal
from engine.diagram.metadata import ProcessMeta, read_processes
from engine.diagram.xmlsafe import parse_xml
from engine.errors import BadRequest, Conflict, NotFound
from engine.services import audit, decisions, deploy, diffs, policy, table_diff
from engine.services.actors import Actor
from engine.services.audit import NewEvent
from engine.services.decisions import DmnFile
from engine.services.deploy import Bundle

STATUSES = ("pending", "accepted", "dismissed", "superseded")


def may_read(actor: Actor) -> None:
    policy.require(actor, "compare_versions")


def may_decide(actor: Actor) -> None:
    policy.require(actor, "deploy")


def _summary(p: SeedProposal) -> dict[str, Any]:
    files = json.loads(p.files_json)
    return {"id": p.id, "kind": p.kind, "key": p.key, "source": p.source, "status": p.status,
            "base_version": p.base_version, "created_at": p.created_at.isoformat(),
            "diagram_changed": p.bpmn_new, "tables_changed": [f["name"] for f in files if f["new"]],
            "decided_by": p.decided_by, "decided_at": p.decided_at.isoformat() if p.decided_at else None,
            "note": p.note, "result": json.loads(p.result_json)}


def list_proposals(db: Database, actor: Actor, status: str | None = "pending") -> list[dict[str, Any]]:
    may_read(actor)
    if status not in (*STATUSES, None, "all"):
        raise BadRequest(f"status must be one of {', '.join(STATUSES)} or all", fields={"status": "unknown"})
    stmt = select(SeedProposal).order_by(SeedProposal.id.desc())
    if status not in (None, "all"):
        stmt = stmt.where(SeedProposal.status == status)
    with unit_of_work(db, readonly=True) as uow:
        return [_summary(p) for p in uow.session.execute(stmt).scalars()]


def _get(uow: UnitOfWork, proposal_id: int) -> SeedProposal:
    row = uow.session.get(SeedProposal, proposal_id)
    if row is None:
        raise NotFound(f"no proposal {proposal_id}")
    return row


def view(db: Database, actor: Actor, proposal_id: int) -> dict[str, Any]:
    """The proposal with its diagram diff against the version in force and a rule-by-rule diff per table."""
    may_read(actor)
    with unit_of_work(db, readonly=True) as uow:
        p = _get(uow, proposal_id)
        result = _summary(p)
        in_force = deploy.latest(uow, p.key) if p.kind == "process" else None
        result["in_force"] = deploy.version_view(in_force) if in_force is not None else None
        result["diff"] = _diagram_diff(p, in_force) if p.bpmn_new else None
        result["tables"] = [_table_change(uow, f) for f in json.loads(p.files_json) if f["new"]]
        result["bpmn_xml"] = p.bpmn_xml
    return result


def _diagram_diff(p: SeedProposal, in_force: Any) -> diffs.VersionDiff | None:
    old = ProcessMeta.from_dict(json.loads(in_force.meta_json)) if in_force is not None else None
    mapping = {**{lane: role for lane, role in (old.lanes if old else {}).items() if role},
               **json.loads(p.lanes_json)}
    new = read_processes(parse_xml((p.bpmn_xml or "").encode("utf-8")), mapping).get(p.key)
    if new is None:
        return None
    return diffs.compare(p.key, old, new, in_force.version if in_force is not None else None, "proposal")


def _table_change(uow: UnitOfWork, entry: dict[str, Any]) -> dict[str, Any]:
    changes = []
    for key in entry["decisions"]:
        row = decisions.latest_version(uow, key)
        base = row.dmn_xml.encode("utf-8") if row is not None else None
        changes.append(table_diff.compare_xml(key, base, entry["xml"].encode("utf-8"),
                                              row.version if row is not None else None, "proposal"))
    return {"file": entry["name"], "decisions": entry["decisions"], "diffs": changes}


def accept(db: Database, actor: Actor, proposal_id: int, comment: str = "") -> dict[str, Any]:
    """Deploys what the proposal brings that is new (the diagram and/or its tables) as new versions."""
    may_decide(actor)
    with unit_of_work(db) as uow:
        p = _pending(uow, proposal_id)
        note = comment.strip() or f"accepted proposal #{p.id} from {p.source}"
        files = [f for f in json.loads(p.files_json) if f["new"]]
        dmn = [DmnFile(f["name"], f["xml"].encode("utf-8"), f.get("tests")) for f in files]
        result: dict[str, Any] = {"decisions": {}}
        events: list[NewEvent] = []
        if p.kind == "process" and p.bpmn_new:
            bundle = Bundle((p.bpmn_xml or "").encode("utf-8"), f"{p.key}.bpmn", dmn, json.loads(p.lanes_json),
                            origin="proposal", comment=note)
            done = deploy.deploy_in(uow, bundle, actor, p.key)
            result["process_version"] = done.version
        else:
            for f in dmn:
                model, problems = decisions.check_dmn(f)
                if problems or model is None:
                    from engine.errors import DeploymentRefused

                    raise DeploymentRefused(f"{len(problems)} problem(s) in {f.name}", problems=problems)
                events += decisions.store_decisions(uow, f, model, actor, "proposal", note)
        for f in files:
            for key in f["decisions"]:
                row = decisions.latest_version(uow, key)
                if row is not None:
                    result["decisions"][key] = row.version
        p.status, p.decided_by, p.decided_at, p.note = "accepted", actor.username, clock.now(), comment.strip()
        p.result_json = json.dumps(result)
        events.append(NewEvent("proposal.accepted", actor.username, element_id=p.key, element_name=p.key,
                               data={"proposal": p.id, "comment": comment.strip(), **result}))
        audit.append(uow, events)
        uow.commit()
        return _summary(p)


def dismiss(db: Database, actor: Actor, proposal_id: int, reason: str) -> dict[str, Any]:
    may_decide(actor)
    if not reason.strip():
        raise BadRequest("say why the proposal is dismissed", fields={"reason": "required"})
    with unit_of_work(db) as uow:
        p = _pending(uow, proposal_id)
        p.status, p.decided_by, p.decided_at, p.note = "dismissed", actor.username, clock.now(), reason.strip()
        audit.append(uow, [NewEvent("proposal.dismissed", actor.username, element_id=p.key, element_name=p.key,
                                    data={"proposal": p.id, "reason": reason.strip()})])
        uow.commit()
        return _summary(p)


def _pending(uow: UnitOfWork, proposal_id: int) -> SeedProposal:
    p = _get(uow, proposal_id)
    if p.status != "pending":
        raise Conflict(f"proposal #{p.id} was already {p.status} by {p.decided_by}")
    return p


def pending_count(db: Database) -> dict[str, int]:
    """Pending proposals per key, for the processes page."""
    with unit_of_work(db, readonly=True) as uow:
        counts: dict[str, int] = {}
        for key in uow.session.execute(select(SeedProposal.key).where(SeedProposal.status == "pending")).scalars():
            counts[key] = counts.get(key, 0) + 1
        return counts
