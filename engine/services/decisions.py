"""Decision tables, versioned apart from diagrams; the version in force is evaluated when a task runs."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from engine import clock
from engine.db.database import UnitOfWork
from engine.db.driver import Prepared
from engine.db.models import DecisionVersion
from engine.diagram.xmlsafe import UnsafeXml, parse_xml
from engine.errors import NotFound
from engine.rules import DmnModel, DmnParseError, RulesError, load_table_tests, parse_dmn, run_table_tests
from engine.services.actors import Actor
from engine.services.audit import NewEvent
from engine.spiff.runtime import Decider, DecisionFault


@dataclass
class DmnFile:
    name: str
    xml: bytes
    tests: str | None = None  # the *.tests.json text shipped beside it


_models: dict[str, DmnModel] = {}


def _model(uow: UnitOfWork, row_id: int, sha: str) -> DmnModel:
    """Parsed tables by checksum: the XML is read and parsed once per content, not per evaluation."""
    model = _models.get(sha)
    if model is None:
        xml = uow.session.execute(select(DecisionVersion.dmn_xml).where(DecisionVersion.id == row_id)).scalar_one()
        model = parse_dmn(xml.encode("utf-8"))
        if len(_models) > 256:
            _models.clear()
        _models[sha] = model
    return model


def model_of(uow: UnitOfWork, row: DecisionVersion) -> DmnModel:
    """The parsed tables of a stored version (parsed once per content)."""
    return _model(uow, row.id, row.sha256)


def check_dmn(dmn: DmnFile) -> tuple[DmnModel | None, list[dict[str, Any]]]:
    """Parses a DMN file and runs its shipped test cases; returns the model and a list of problems."""
    try:
        model = parse_dmn(dmn.xml)
        parse_xml(dmn.xml, dmn.name)  # refuses browser script (the rules parser reads only what it needs)
    except DmnParseError as exc:
        return None, [problem_view(dmn.name, p) for p in exc.problems]
    except (UnsafeXml, ValueError) as exc:
        return None, [{"element_id": None, "file": dmn.name, "message": str(exc)}]
    problems: list[dict[str, Any]] = []
    if dmn.tests:
        try:
            cases = load_table_tests(dmn.tests)
            problems.extend(problem_view(dmn.name, p) for p in run_table_tests(model, cases))
        except DmnParseError as exc:
            problems.extend(problem_view(dmn.name, p) for p in exc.problems)
    return model, problems


def problem_view(file: str, p: Any) -> dict[str, Any]:
    where = ", ".join(x for x in (p.rule_id and f"rule {p.rule_id}", p.cell) if x)
    return {"element_id": p.decision_id, "rule_id": p.rule_id, "cell": p.cell, "file": file,
            "message": f"{where}: {p.message}" if where else p.message}


def store_decisions(uow: UnitOfWork, dmn: DmnFile, model: DmnModel, actor: Actor, origin: str = "api",
                    comment: str = "") -> list[NewEvent]:
    """Adds a new version of every decision in the file whose content changed; returns audit events."""
    text = dmn.xml.decode("utf-8")
    sha = hashlib.sha256(dmn.xml).hexdigest()
    tests = dmn.tests or "[]"
    events = []
    for decision_id, decision in model.decisions.items():
        latest = latest_version(uow, decision_id)
        if latest is not None and latest.sha256 == sha and same_examples(latest.tests_json, tests):
            continue
        version = (latest.version if latest else 0) + 1
        uow.session.add(DecisionVersion(
            key=decision_id, version=version, name=decision.name or decision_id, dmn_xml=text,
            tests_json=tests, sha256=sha, deployed_by=actor.username, deployed_at=clock.now(),
            origin=origin, comment=comment,
        ))
        events.append(NewEvent("decision.deployed", actor.username, element_id=decision_id,
                               element_name=decision.name,
                               data={"key": decision_id, "version": version, "sha256": sha, "file": dmn.name,
                                     "origin": origin, "comment": comment, "examples": _count(tests)}))
    uow.session.flush()
    return events


def same_examples(stored: str | None, sent: str) -> bool:
    """The same example cases, however the JSON is laid out: a table with changed examples is a new version."""
    try:
        return bool(json.loads(stored or "[]") == json.loads(sent))
    except ValueError:
        return (stored or "[]") == sent


def _count(tests: str) -> int | None:
    try:
        cases = json.loads(tests)
    except ValueError:
        return None
    if isinstance(cases, dict):
        cases = cases.get("cases")
    return len(cases) if isinstance(cases, list) else None


def latest_version(uow: UnitOfWork, key: str) -> DecisionVersion | None:
    stmt = select(DecisionVersion).where(DecisionVersion.key == key).order_by(DecisionVersion.version.desc())
    return uow.session.execute(stmt.limit(1)).scalar_one_or_none()


def known_keys(uow: UnitOfWork) -> set[str]:
    return set(uow.session.execute(select(DecisionVersion.key).distinct()).scalars())


def list_versions(uow: UnitOfWork, key: str) -> list[dict[str, Any]]:
    stmt = select(DecisionVersion).where(DecisionVersion.key == key).order_by(DecisionVersion.version)
    rows = list(uow.session.execute(stmt).scalars())
    if not rows:
        raise NotFound(f"no decision {key}")
    return [version_view(r) for r in rows]


def version_view(r: DecisionVersion) -> dict[str, Any]:
    return {"key": r.key, "version": r.version, "name": r.name, "sha256": r.sha256, "deployed_by": r.deployed_by,
            "deployed_at": r.deployed_at.isoformat(), "origin": r.origin, "comment": r.comment}


def get_version(uow: UnitOfWork, key: str, version: int) -> DecisionVersion:
    stmt = select(DecisionVersion).where(DecisionVersion.key == key, DecisionVersion.version == version)
    row = uow.session.execute(stmt).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no version {version} of decision {key}")
    return row


# Every evaluation asks for the newest version (a table deployed meanwhile, by any process, applies at once):
# one indexed read on the driver's cursor, the parsed tables then come from _models by checksum.
_NEWEST = Prepared(select(DecisionVersion.id, DecisionVersion.version, DecisionVersion.sha256)
                   .where(DecisionVersion.key == bindparam("key")).order_by(DecisionVersion.version.desc()).limit(1))


def make_decider(uow: UnitOfWork) -> Decider:
    """A Decider for the runtime: evaluates the latest version of a key and returns (outputs, evidence)."""

    def decide(key: str, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        row = _NEWEST.one_or_none(uow, {"key": key})
        if row is None:
            raise DecisionFault(f"decision {key} is not deployed")
        row_id, version, sha = row
        model = _model(uow, row_id, sha)
        try:
            evaluation = model.evaluate(key, data, version=version)
        except RulesError as exc:
            raise DecisionFault(str(exc)) from exc
        evidence = evaluation.to_dict()
        evidence["explanation"] = evaluation.explain()
        return dict(evaluation.outputs), {"decision": key, "version": version, "evaluation": evidence}

    return decide

