"""Several BPMN files deployed as one bundle: in call order (a called process before its callers), in one
transaction, all or nothing, with the tables once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from engine.db.database import Database, unit_of_work
from engine.diagram.metadata import BPMN_NS, NS
from engine.diagram.xmlsafe import UnsafeXml, parse_xml
from engine.errors import DeploymentRefused
from engine.services import deploy, policy
from engine.services.actors import Actor
from engine.services.deploy import Bundle, Deployed


def _calls(bundle: Bundle) -> tuple[set[str], set[str]]:
    """The process ids a file holds and those it calls (empty when it does not parse: deploy reports that)."""
    try:
        root = parse_xml(bundle.bpmn, bundle.filename)
    except UnsafeXml:
        return set(), set()
    holds = {str(p.get("id")) for p in root.iterfind("bpmn:process", NS)}
    calls = {str(n.get("calledElement")) for n in root.iter(f"{{{BPMN_NS}}}callActivity") if n.get("calledElement")}
    return holds, calls - holds


def call_order(files: list[Bundle]) -> list[Bundle]:
    """Callees first; files in a cycle or unrelated keep their upload order."""
    info = [_calls(b) for b in files]
    placed: list[int] = []
    remaining = list(range(len(files)))
    while remaining:
        ready = [i for i in remaining
                 if not any(info[i][1] & info[j][0] for j in remaining if j != i)]
        chosen = ready[0] if ready else remaining[0]
        placed.append(chosen)
        remaining.remove(chosen)
    return [files[i] for i in placed]


def deploy_bundle(db: Database, files: list[Bundle], actor: Actor) -> list[Deployed]:
    policy.require(actor, "deploy")
    if not files:
        raise DeploymentRefused("the bundle has no BPMN file", problems=[{"element_id": None, "message":
                                                                          "send at least one .bpmn file"}])
    ordered = call_order(files)
    problems: list[dict[str, Any]] = []
    results: list[Deployed] = []
    with unit_of_work(db) as uow:
        for n, bundle in enumerate(ordered):
            # The tables go with the first file deployed; later files find them deployed.
            this = bundle if n == 0 else replace(bundle, dmn=[])
            try:
                results.append(deploy.deploy_in(uow, this, actor))
            except DeploymentRefused as exc:
                for problem in exc.details.get("problems", []):
                    problems.append({**problem, "file": bundle.filename})
        if problems:
            raise DeploymentRefused(f"{len(problems)} problem(s) in the bundle; nothing was deployed",
                                    problems=problems)
        uow.commit()
    return results
