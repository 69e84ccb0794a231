"""A decision table and its examples as the owner edits them, before anything is deployed: which examples pass,
which fail and why, and what the table answers for inputs a person types. The same parser and evaluator run the
deployed tables, so a preview here is what a running process would get."""

from __future__ import annotations

import json
from typing import Any

from engine.db.database import Database, unit_of_work
from engine.diagram.xmlsafe import UnsafeXml
from engine.errors import BadRequest, DeploymentRefused
from engine.rules import Decision, DmnModel, DmnParseError, EvaluationError, parse_dmn
from engine.rules.tabletests import CaseResult, run_case
from engine.rules.values import to_json
from engine.services import decisions, policy
from engine.services.actors import Actor

MAX_EXAMPLES = 1000


def _model(xml: Any, key: str) -> DmnModel:
    if not isinstance(xml, str | bytes) or not xml:
        raise BadRequest("send the table's DMN XML as 'dmn'", fields={"dmn": "missing"})
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    try:
        model = parse_dmn(data)
    except DmnParseError as exc:
        problems = [decisions.problem_view("table", p) for p in exc.problems]
        raise DeploymentRefused(f"{len(problems)} problem(s) in the decision table", problems=problems) from None
    except (UnsafeXml, ValueError) as exc:
        raise DeploymentRefused(str(exc), problems=[{"element_id": None, "message": str(exc)}]) from None
    if key not in model.decisions:
        raise BadRequest(f"the table has no decision with id {key!r}", fields={"dmn": "no such decision"})
    return model


def cases_from(value: Any) -> list[Any]:
    """Examples as a list of cases: a list, {"cases": [...]}, or the JSON text of either (a .tests.json file)."""
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value) if value.strip() else []
        except ValueError as exc:
            raise BadRequest(f"the examples are not valid JSON: {exc}", fields={"examples": "not JSON"}) from None
    if isinstance(value, dict) and isinstance(value.get("cases"), list):
        value = value["cases"]
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest("the examples must be a list of cases", fields={"examples": "not a list"})
    if len(value) > MAX_EXAMPLES:
        raise BadRequest(f"at most {MAX_EXAMPLES} examples", fields={"examples": "too many"})
    return value


def columns(decision: Decision) -> dict[str, Any]:
    """The columns an example fills in: each input by the name the process data uses (its expression), with
    its type and the values the column lists; each output by name."""
    return {
        "decision": decision.id, "name": decision.name, "hit_policy": decision.policy_label,
        "inputs": [{"key": i.expression, "label": i.label or i.expression, "type": i.type_ref,
                    "values": to_json(list(i.allowed_values))} for i in decision.inputs],
        "outputs": [{"key": o.name, "label": o.label or o.name, "type": o.type_ref,
                     "values": to_json(list(o.allowed_values))} for o in decision.outputs],
        "rules": [r.id for r in decision.rules],
    }


def _case_view(case: Any, result: CaseResult) -> dict[str, Any]:
    first = next((p for p in result.problems), None)
    return {"number": result.number, "passed": result.passed, "matched": result.matched,
            "outputs": result.outputs, "case": case,
            "rule_id": first.rule_id if first else None,
            "messages": [p.message for p in result.problems]}


def check(actor: Actor, key: str, xml: Any, examples: Any) -> dict[str, Any]:
    """Runs every example against the edited table; returns each case's outcome, and the table's columns."""
    policy.require(actor, "deploy")
    model = _model(xml, key)
    cases = cases_from(examples)
    results = [_case_view(case, run_case(model, case, number)) for number, case in enumerate(cases, 1)]
    failed = sum(1 for r in results if not r["passed"])
    return {"key": key, "decisions": list(model.decisions), "columns": columns(model.decisions[key]),
            "examples": results, "passed": len(results) - failed, "failed": failed}


def preview(actor: Actor, key: str, xml: Any, inputs: Any) -> dict[str, Any]:
    """What the edited table answers for `inputs`: the matched rules, the outputs and the explanation. A table
    that cannot answer (a UNIQUE table with two hits, say) is an answer too: `error` says why."""
    policy.require(actor, "deploy")
    model = _model(xml, key)
    if not isinstance(inputs, dict):
        raise BadRequest("the inputs must be an object of name: value", fields={"inputs": "not an object"})
    try:
        evaluation = model.evaluate(key, inputs)
    except EvaluationError as exc:
        return {"key": key, "inputs": inputs, "matched": [], "outputs": {}, "explanation": None,
                "error": {"message": exc.message, "rule_ids": list(exc.rule_ids)}}
    return {"key": key, "inputs": inputs, "matched": list(evaluation.matched), "outputs": to_json(evaluation.outputs),
            "explanation": evaluation.explain(), "evaluation": evaluation.to_dict(), "error": None}


def stored(db: Database, actor: Actor, key: str, version: int) -> str:
    """The examples a table version was deployed with, as the JSON text of its .tests.json."""
    policy.require(actor, "catalogue")
    with unit_of_work(db, readonly=True) as uow:
        return decisions.get_version(uow, key, version).tests_json or "[]"
