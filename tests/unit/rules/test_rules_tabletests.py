"""Shipped table tests (*.tests.json): loading, shape checks, and failure messages."""

from __future__ import annotations

import json

import pytest

from engine.rules import DmnParseError, load_table_tests, parse_dmn, run_table_tests

from .dmn_builder import In, Out, R, Table, dmn

MODEL = parse_dmn(
    dmn(
        Table(
            "priority",
            [In("impact"), In("urgency")],
            [Out("priority"), Out("page", "boolean")],
            [
                R(['"high"', '"high"'], ['"P1"', "true"], id="r1"),
                R(['"high"', '"low"'], ['"P2"', "false"], id="r7"),
                R(['"low"', "-"], ['"P4"', "false"], id="r8"),
                R(['"low"', '"low"'], ['"P4"', "false"], id="r9"),
            ],
        ),
        Table("when", [In("d", type_ref="date")], [Out("due", "date")], [R(["-"], ['date("2026-02-01")'])]),
    )
)


def case(inputs: dict, expected: dict | None = None, **extra: object) -> dict:
    out: dict = {"decision": "priority", "inputs": inputs, **extra}
    if expected is not None:
        out["expected"] = expected
    return out


def test_passing_cases_return_no_problems() -> None:
    cases = [
        case({"impact": "high", "urgency": "high"}, {"priority": "P1", "page": True}),
        case({"impact": "high", "urgency": "low"}, {"priority": "P2"}),  # only listed keys are compared
        case({"impact": "none"}, {"priority": None}),
        case({"impact": "low", "urgency": "low"}, expected_error=True),  # r8 and r9 overlap
        {"decision": "when", "inputs": {}, "expected": {"due": "2026-02-01"}},  # dates compare as ISO text
    ]
    assert run_table_tests(MODEL, cases) == []


def test_failing_case_message() -> None:
    cases = [
        case({"impact": "high", "urgency": "high"}, {"priority": "P1"}),
        case({"impact": "high", "urgency": "high"}, {"priority": "P1"}),
        case({"impact": "high", "urgency": "low"}, {"priority": "P1"}),
    ]
    (problem,) = run_table_tests(MODEL, cases)
    assert problem.message == 'test 3: expected priority="P1", got "P2" (matched r7)'
    assert (problem.decision_id, problem.rule_id) == ("priority", "r7")


def test_true_is_not_one() -> None:
    (problem,) = run_table_tests(MODEL, [case({"impact": "high", "urgency": "high"}, {"page": 1})])
    assert "expected page=1, got true" in problem.message


def test_several_mismatches_in_one_case_are_one_problem() -> None:
    (problem,) = run_table_tests(
        MODEL, [case({"impact": "high", "urgency": "low"}, {"priority": "P1", "page": True}, name="outage")]
    )
    assert problem.message == (
        'test 1 (outage): expected priority="P1", got "P2"; expected page=true, got false (matched r7)'
    )


def test_unexpected_error_and_missing_error() -> None:
    problems = run_table_tests(
        MODEL,
        [
            case({"impact": "low", "urgency": "low"}, {"priority": "P4"}),
            case({"impact": "high", "urgency": "high"}, expected_error=True),
        ],
    )
    assert len(problems) == 2
    assert problems[0].message.startswith(
        "test 1: evaluation failed: UNIQUE hit policy violated: rules r8, r9"
    )
    assert problems[0].rule_id == "r8"
    assert (
        problems[1].message
        == 'test 2: expected an evaluation error, got priority="P1", page=true (matched r1)'
    )


def test_unknown_decision_and_unknown_output() -> None:
    problems = run_table_tests(
        MODEL,
        [
            {"decision": "nope", "inputs": {}, "expected": {"x": 1}},
            case({"impact": "high", "urgency": "high"}, {"prio": "P1"}),
        ],
    )
    assert "unknown decision 'nope'" in problems[0].message
    assert "unknown output 'prio'" in problems[1].message


def test_no_match_message() -> None:
    (problem,) = run_table_tests(MODEL, [case({"impact": "none"}, {"priority": "P4"})])
    assert problem.message == 'test 1: expected priority="P4", got null (matched no rule)'
    assert problem.rule_id is None


def test_load_list_and_object_forms() -> None:
    cases = [case({"impact": "high", "urgency": "high"}, {"priority": "P1"})]
    assert load_table_tests(json.dumps(cases)) == cases
    assert load_table_tests(json.dumps({"cases": cases})) == cases
    assert load_table_tests(json.dumps({"cases": []})) == []


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ('"a string"', "JSON list of cases"),
        ('{"tests": []}', "JSON list of cases"),
        ("[1]", "test 1: a case must be an object"),
        ('[{"inputs": {}, "expected": {}}]', '"decision" must be a decision id'),
        ('[{"decision": "d", "inputs": [], "expected": {}}]', '"inputs" must be an object'),
        ('[{"decision": "d", "inputs": {}}]', 'needs "expected" or "expected_error": true'),
        ('[{"decision": "d", "inputs": {}, "expected": 5}]', '"expected" must be an object'),
        (
            '[{"decision": "d", "inputs": {}, "expected_error": "yes"}]',
            '"expected_error" must be true or false',
        ),
        ('[{"decision": "d", "inputs": {}, "expect": {}}]', "unknown key(s) expect"),
    ],
)
def test_load_rejects_bad_files(text: str, fragment: str) -> None:
    with pytest.raises(DmnParseError) as info:
        load_table_tests(text)
    assert any(fragment in p.message for p in info.value.problems)


def test_load_reports_every_bad_case() -> None:
    with pytest.raises(DmnParseError) as info:
        load_table_tests(
            '[{"decision": "d", "inputs": {}}, {"decision": "d", "inputs": {}, "expected": {}}, 3,'
            ' {"decision": "d", "inputs": {}, "expected": {"x": 1}}]'
        )
    # test 2 expects nothing, so it would pass whatever the table said; test 4 is fine
    assert [p.message.split(":")[0] for p in info.value.problems] == ["test 1", "test 2", "test 3"]
    assert "expects no output" in info.value.problems[1].message


def test_run_checks_shape_of_cases_it_is_given_directly() -> None:
    (problem,) = run_table_tests(MODEL, [{"decision": "priority"}])
    assert "needs" in problem.message
