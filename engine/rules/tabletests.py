"""Example-based tests shipped next to a DMN file (``*.tests.json``) and run at deploy time."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import DmnParseError, EvaluationError, Problem
from .model import DmnModel
from .values import BOOLEAN, feel_text, kind_of, to_json

_CASE_KEYS = {"decision", "inputs", "expected", "expected_error", "name", "description", "version"}


def _case_shape_problems(case: Any, number: int) -> list[Problem]:
    label = f"test {number}"
    if not isinstance(case, dict):
        return [Problem(None, None, None, f"{label}: a case must be an object, got {type(case).__name__}")]
    decision = case.get("decision")
    problems = []
    unknown = sorted(set(case) - _CASE_KEYS)
    if unknown:
        problems.append(Problem(decision if isinstance(decision, str) else None, None, None,
                                f"{label}: unknown key(s) {', '.join(unknown)} "
                                f"(allowed: {', '.join(sorted(_CASE_KEYS))})"))
    if not isinstance(decision, str) or not decision:
        problems.append(Problem(None, None, None, f'{label}: "decision" must be a decision id'))
        decision = None
    if not isinstance(case.get("inputs", {}), dict):
        problems.append(Problem(decision, None, None, f'{label}: "inputs" must be an object'))
    expected = case.get("expected")
    wants_error = case.get("expected_error", False)
    if not isinstance(wants_error, bool):
        problems.append(Problem(decision, None, None, f'{label}: "expected_error" must be true or false'))
    elif expected is None and not wants_error:
        problems.append(Problem(decision, None, None, f'{label}: needs "expected" or "expected_error": true'))
    if expected is not None and not isinstance(expected, dict):
        problems.append(Problem(decision, None, None, f'{label}: "expected" must be an object'))
    elif expected == {} and not wants_error:
        # an example that expects nothing would pass whatever the table answers
        problems.append(Problem(decision, None, None, f"{label}: expects no output; name at least one"))
    return problems


def load_table_tests(text: str | bytes) -> list[dict[str, Any]]:
    """Parse a ``*.tests.json`` file: a JSON list of cases, or ``{"cases": [...]}``."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DmnParseError([Problem(None, None, None, f"table tests are not valid JSON: {exc}")]) from None
    if isinstance(data, dict) and set(data) <= {"cases", "description", "name"} and "cases" in data:
        data = data["cases"]
    if not isinstance(data, list):
        raise DmnParseError([Problem(None, None, None,
                                     'table tests must be a JSON list of cases or {"cases": [...]}')])
    problems = [p for number, case in enumerate(data, 1) for p in _case_shape_problems(case, number)]
    if problems:
        raise DmnParseError(problems)
    return data


def _same(actual: Any, expected: Any) -> bool:
    """Compare an output with a JSON expectation: dates as ISO text, and true never equal to 1."""
    actual = to_json(actual)
    if (kind_of(actual) == BOOLEAN) != (kind_of(expected) == BOOLEAN):
        return False
    if isinstance(actual, list) and isinstance(expected, list):
        if len(actual) != len(expected):
            return False
        return all(_same(a, e) for a, e in zip(actual, expected, strict=True))
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(_same(actual[k], expected[k]) for k in actual)
    return bool(actual == expected)


@dataclass
class CaseResult:
    """What one example case did: the rules it matched, the outputs it got, and why it failed (if it did)."""

    number: int
    matched: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)  # JSON-safe
    problems: list[Problem] = field(default_factory=list)  # empty when the case passed

    @property
    def passed(self) -> bool:
        return not self.problems


def run_case(model: DmnModel, case: Any, number: int) -> CaseResult:
    """Run one case against the model: shape problems, evaluation errors and output mismatches are problems."""
    result = CaseResult(number)
    shape = _case_shape_problems(case, number)
    if shape:
        result.problems = shape
        return result
    decision_id = case["decision"]
    label = f"test {number}" + (f" ({case['name']})" if case.get("name") else "")
    if decision_id not in model.decisions:
        result.problems = [Problem(decision_id, None, None, f"{label}: unknown decision {decision_id!r}")]
        return result
    wants_error = case.get("expected_error", False)
    try:
        evaluation = model.evaluate(decision_id, case.get("inputs", {}), version=case.get("version"))
    except EvaluationError as exc:
        if not wants_error:
            rule_id = exc.rule_ids[0] if exc.rule_ids else None
            result.problems = [Problem(decision_id, rule_id, None, f"{label}: evaluation failed: {exc.message}")]
        return result
    result.matched = list(evaluation.matched)
    result.outputs = to_json(evaluation.outputs)
    first = evaluation.matched[0] if evaluation.matched else None
    matched = ", ".join(evaluation.matched) or "no rule"
    if wants_error:
        got = ", ".join(f"{k}={feel_text(v)}" for k, v in evaluation.outputs.items())
        result.problems = [Problem(decision_id, first, None,
                                   f"{label}: expected an evaluation error, got {got} (matched {matched})")]
        return result
    failures = []
    for key, expected in (case.get("expected") or {}).items():
        if key not in evaluation.outputs:
            failures.append(f"unknown output {key!r} (outputs: {', '.join(evaluation.outputs)})")
        elif not _same(evaluation.outputs[key], expected):
            failures.append(f"expected {key}={feel_text(expected)}, got {feel_text(evaluation.outputs[key])}")
    if failures:
        result.problems = [Problem(decision_id, first, None, f"{label}: {'; '.join(failures)} (matched {matched})")]
    return result


def run_table_tests(model: DmnModel, cases: list[dict[str, Any]]) -> list[Problem]:
    """Run each case; return one Problem per failing case (an empty list means all passed)."""
    return [p for number, case in enumerate(cases, 1) for p in run_case(model, case, number).problems]
