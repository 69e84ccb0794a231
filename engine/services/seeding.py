"""Bundled processes are seeds, not masters.

`itsmflow deploy` (and so `make run`) reads process folders shipped with the product. A bundled process or table
is installed only while it has no version at all. Once it has one, the owners' versions are theirs: a bundled
file that differs from everything deployed or offered before becomes a proposal (engine/services/proposals.py)
that an owner accepts or dismisses; `--force` makes the bundled file the version in force instead. A bundled
file already seen (installed, proposed, dismissed) is not offered again, so a restart changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import DecisionVersion, ProcessVersion, SeedProposal
from engine.diagram.metadata import read_processes
from engine.diagram.xmlsafe import UnsafeXml, parse_xml
from engine.errors import DeploymentRefused
from engine.services import audit, decisions, deploy, policy
from engine.services.actors import Actor
from engine.services.audit import NewEvent
from engine.services.decisions import DmnFile
from engine.services.deploy import Bundle

SEED = "seed"


@dataclass
class SeedResult:
    """What the deploy step did with one bundled process or table file, and why."""

    kind: str  # process / decision
    key: str
    action: str  # installed / unchanged / kept / proposed / forced
    version: int | None  # the version in force afterwards
    reason: str
    proposal: int | None = None

    def line(self) -> str:
        what = f"table {self.key}" if self.kind == "decision" else self.key
        return f"{what}: {self.action} — {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "action": self.action, "version": self.version,
                "reason": self.reason, "proposal": self.proposal}


def sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def _check_deployer(actor: Actor) -> None:
    policy.require(actor, "deploy")


def _process_key(bundle: Bundle) -> str | None:
    try:
        processes = read_processes(parse_xml(bundle.bpmn, bundle.filename))
    except (UnsafeXml, ValueError):
        return None
    executable = [p.id for p in processes.values() if p.executable]
    return executable[0] if len(executable) == 1 else None


def _who(row: ProcessVersion | DecisionVersion) -> str:
    return f"v{row.version} by {row.deployed_by} ({row.origin})"


# --------------------------------------------------------------------------------------- what is known

def _seen_bpmn(uow: UnitOfWork, key: str, digest: str) -> str | None:
    """Where this diagram content was met before: a version of `key`, or a proposal; None if never."""
    rows = uow.session.execute(select(ProcessVersion.version, ProcessVersion.bpmn_xml)
                               .where(ProcessVersion.key == key).order_by(ProcessVersion.version)).all()
    for version, xml in rows:
        if sha(xml) == digest:
            return f"the one deployed as v{version}"
    proposal = uow.session.execute(select(SeedProposal).where(SeedProposal.key == key,
                                                              SeedProposal.bpmn_sha256 == digest)
                                   .order_by(SeedProposal.id.desc()).limit(1)).scalar_one_or_none()
    return _proposal_words(proposal) if proposal is not None else None


def _proposal_words(p: SeedProposal) -> str:
    if p.status == "pending":
        return f"already offered as proposal #{p.id}, waiting for review"
    return f"offered as proposal #{p.id}, {p.status} by {p.decided_by or 'nobody'}" + (
        f" ({p.note})" if p.note else "")


def _seen_table(uow: UnitOfWork, keys: list[str], digest: str) -> str | None:
    row = uow.session.execute(select(DecisionVersion).where(DecisionVersion.key.in_(keys),
                                                            DecisionVersion.sha256 == digest)
                              .order_by(DecisionVersion.version).limit(1)).scalar_one_or_none()
    if row is not None:
        return f"the one deployed as {row.key} v{row.version}"
    for p in uow.session.execute(select(SeedProposal).where(SeedProposal.status != "superseded")
                                 .order_by(SeedProposal.id.desc())).scalars():
        if any(f["sha256"] == digest for f in json.loads(p.files_json)):
            return _proposal_words(p)
    return None


def _table_keys(dmn: DmnFile) -> list[str]:
    model, _ = decisions.check_dmn(DmnFile(dmn.name, dmn.xml))
    return list(model.decisions) if model is not None else []


# --------------------------------------------------------------------------------------- process bundles

def seed_bundle(db: Database, bundle: Bundle, actor: Actor, source: str, force: bool = False) -> SeedResult:
    """Installs a bundled process when it has no version; otherwise keeps the version in force and offers the
    bundled file as a proposal when it is new, or (force) deploys it. Raises DeploymentRefused for a bundle
    that would not deploy."""
    _check_deployer(actor)
    key = _process_key(bundle)
    with unit_of_work(db) as uow:
        if key is None:
            deploy.check_bundle(uow, bundle)  # raises with the problems
            raise DeploymentRefused("the file must hold exactly one executable process")
        result = _seed_in(uow, bundle, actor, source, key, force)
        uow.commit()
    return result


def _seed_in(uow: UnitOfWork, bundle: Bundle, actor: Actor, source: str, key: str, force: bool) -> SeedResult:
    in_force = deploy.latest(uow, key)
    if in_force is None:
        return _install(uow, bundle, actor, source, key)
    if in_force.sha256 == deploy.bundle_sha(bundle):
        return SeedResult("process", key, "unchanged", in_force.version,
                          f"{_who(in_force)} in force is the bundled file")
    if force:
        bundle.origin, bundle.comment = SEED, f"--force from {source}, replacing {_who(in_force)}"
        done = deploy.deploy_in(uow, bundle, actor)
        _supersede(uow, key, actor)
        return SeedResult("process", key, "forced", done.version,
                          f"v{done.version} deployed with --force, replacing {_who(in_force)}")
    bpmn_seen = _seen_bpmn(uow, key, sha(bundle.bpmn))
    files = [_file_entry(uow, dmn) for dmn in bundle.dmn]
    new_files = [f for f in files if f["new"]]
    if bpmn_seen is not None and not new_files and sha(in_force.bpmn_xml) == sha(bundle.bpmn):
        return SeedResult("process", key, "unchanged", in_force.version,
                          f"{_who(in_force)} in force has the bundled diagram, and its tables are known")
    if bpmn_seen is not None and not new_files:
        return SeedResult("process", key, "kept", in_force.version,
                          f"{_who(in_force)} stays in force; the bundled diagram is {bpmn_seen}")
    deploy.check_bundle(uow, bundle, key)  # a bundled file that would not deploy is not offered
    proposal = SeedProposal(
        kind="process", key=key, source=source, bpmn_xml=bundle.bpmn.decode("utf-8"),
        bpmn_sha256=sha(bundle.bpmn), bpmn_new=bpmn_seen is None, files_json=json.dumps(files),
        lanes_json=json.dumps(bundle.lanes), base_version=in_force.version, status="pending",
        created_at=clock.now(), note="", result_json="{}",
    )
    uow.session.add(proposal)
    uow.session.flush()
    parts = (["diagram"] if bpmn_seen is None else []) + [f"table file {f['name']}" for f in new_files]
    audit.append(uow, [NewEvent("proposal.created", actor.username, element_id=key, element_name=key,
                                data={"proposal": proposal.id, "kind": "process", "source": source,
                                      "base_version": in_force.version, "parts": parts})])
    return SeedResult("process", key, "proposed", in_force.version,
                      f"{_who(in_force)} stays in force; the bundled {' and '.join(parts)} changed: proposal "
                      f"#{proposal.id} waits for an owner's review (processes page or /api/v1/proposals/"
                      f"{proposal.id}); deploy with --force to replace the version instead", proposal.id)


def _install(uow: UnitOfWork, bundle: Bundle, actor: Actor, source: str, key: str) -> SeedResult:
    """A process with no version gets the bundled one; a table it brings that already has a version (someone
    else's, or an owner's) keeps that version: the diagram only refers to the table by its id."""
    deploy.check_bundle(uow, bundle)
    kept = [d for d in bundle.dmn if (keys := _table_keys(d)) and all(decisions.latest_version(uow, k)
                                                                        for k in keys)]
    bundle.dmn = [d for d in bundle.dmn if d not in kept]
    bundle.origin, bundle.comment = SEED, f"installed from {source}"
    done = deploy.deploy_in(uow, bundle, actor)
    note = f"; tables already deployed were kept: {', '.join(d.name for d in kept)}" if kept else ""
    return SeedResult("process", key, "installed", done.version, f"v{done.version}: it had no version yet{note}")


def _file_entry(uow: UnitOfWork, dmn: DmnFile) -> dict[str, Any]:
    keys = _table_keys(dmn)
    digest = sha(dmn.xml)
    seen = _seen_table(uow, keys, digest)
    return {"name": dmn.name, "xml": dmn.xml.decode("utf-8"), "tests": dmn.tests, "sha256": digest,
            "decisions": keys, "new": seen is None, "seen": seen}


def _supersede(uow: UnitOfWork, key: str, actor: Actor) -> None:
    """A forced deploy answers the pending proposals of the same key."""
    uow.session.execute(update(SeedProposal).where(SeedProposal.key == key, SeedProposal.status == "pending")
                        .values(status="superseded", decided_by=actor.username, decided_at=clock.now(),
                                note="a forced deploy of the bundled files replaced the version"))


# --------------------------------------------------------------------------------------- table files alone

def seed_decisions(db: Database, dmn: DmnFile, actor: Actor, source: str, force: bool = False) -> SeedResult:
    """A bundled .dmn file deployed on its own (a folder of shared tables): the same rules per file."""
    _check_deployer(actor)
    keys = _table_keys(dmn)
    if not keys:
        model, problems = decisions.check_dmn(dmn)
        raise DeploymentRefused(f"{len(problems)} problem(s) in the decision table", problems=problems)
    name = keys[0]
    with unit_of_work(db) as uow:
        in_force = [r for r in (decisions.latest_version(uow, k) for k in keys) if r is not None]
        digest = sha(dmn.xml)
        if in_force and all(r.sha256 == digest for r in in_force) and len(in_force) == len(keys):
            return SeedResult("decision", name, "unchanged", in_force[0].version,
                              f"{_who(in_force[0])} in force is the bundled file")
        seen = _seen_table(uow, keys, digest)
    if not in_force or force:
        how = "installed" if not in_force else "forced"
        comment = f"installed from {source}" if not in_force else f"--force from {source}"
        done = deploy.deploy_decisions(db, dmn, actor, origin=SEED, comment=comment)
        version = done["versions"].get(name)
        reason = (f"v{version}: it had no version yet" if not in_force
                  else f"v{version} deployed with --force, replacing {_who(in_force[0])}")
        return SeedResult("decision", name, how, version, reason)
    if seen is not None:
        return SeedResult("decision", name, "kept", in_force[0].version,
                          f"{_who(in_force[0])} stays in force; the bundled table is {seen}")
    model, problems = decisions.check_dmn(dmn)
    if problems:
        raise DeploymentRefused(f"{len(problems)} problem(s) in the decision table", problems=problems)
    with unit_of_work(db) as uow:
        entry = {"name": dmn.name, "xml": dmn.xml.decode("utf-8"), "tests": dmn.tests, "sha256": digest,
                 "decisions": keys, "new": True, "seen": None}
        proposal = SeedProposal(kind="decision", key=name, source=source, bpmn_xml=None, bpmn_sha256=None,
                                bpmn_new=False, files_json=json.dumps([entry]), lanes_json="{}",
                                base_version=in_force[0].version, status="pending", created_at=clock.now(),
                                note="", result_json="{}")
        uow.session.add(proposal)
        uow.session.flush()
        audit.append(uow, [NewEvent("proposal.created", actor.username, element_id=name, element_name=name,
                                    data={"proposal": proposal.id, "kind": "decision", "source": source,
                                          "base_version": in_force[0].version, "parts": [f"table file {dmn.name}"]})])
        uow.commit()
        number = proposal.id
    return SeedResult("decision", name, "proposed", in_force[0].version,
                      f"{_who(in_force[0])} stays in force; the bundled table changed: proposal #{number} waits "
                      "for an owner's review; deploy with --force to replace the version instead", number)
