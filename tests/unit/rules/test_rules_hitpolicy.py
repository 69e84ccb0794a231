"""Every hit policy, including the evaluation errors of UNIQUE and ANY, and COLLECT aggregations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.rules import DmnParseError, EvaluationError, parse_dmn

from .dmn_builder import In, Out, R, Table, dmn

# Scores overlap on purpose: a score of 7 matches r1 (>5), r2 (>3) and r3 (-).
OVERLAPPING = [
    R(["> 5"], ['"P2"', "10"], id="r1", description="big"),
    R(["> 3"], ['"P1"', "20"], id="r2"),
    R(["-"], ['"P3"', "30"], id="r3", description="fallback"),
]
OUTPUTS = [Out("priority", allowed='"P1","P2","P3"'), Out("points", "integer")]


def model(
    hit_policy: str | None,
    rules: list[R] = OVERLAPPING,
    aggregation: str | None = None,
    outputs: list[Out] = OUTPUTS,
):
    return parse_dmn(
        dmn(
            Table(
                "d",
                [In("score", type_ref="integer")],
                outputs,
                rules,
                hit_policy=hit_policy,
                aggregation=aggregation,
            )
        )
    )


def test_unique_single_match() -> None:
    rules = [
        R(["< 3"], ['"P3"', "1"], id="low"),
        R(["[3..6]"], ['"P2"', "2"], id="mid"),
        R(["> 6"], ['"P1"', "3"], id="high"),
    ]
    result = model("UNIQUE", rules).evaluate("d", {"score": 4})
    assert result.matched == ["mid"]
    assert result.outputs == {"priority": "P2", "points": 2}
    assert result.hit_policy == "UNIQUE"


def test_default_hit_policy_is_unique() -> None:
    m = model(None)
    assert m.decisions["d"].hit_policy == "UNIQUE"
    with pytest.raises(EvaluationError):
        m.evaluate("d", {"score": 7})


def test_unique_overlap_names_both_rules() -> None:
    with pytest.raises(EvaluationError) as info:
        model("UNIQUE").evaluate("d", {"score": 4})
    err = info.value
    assert err.decision_id == "d"
    assert err.rule_ids == ["r2", "r3"]
    assert "r2" in err.message and "r3" in err.message and "UNIQUE" in err.message


def test_single_result_no_match_gives_nulls() -> None:
    rules = [R(["> 100"], ['"P1"', "1"])]
    for policy in ("UNIQUE", "FIRST", "PRIORITY", "ANY"):
        result = model(policy, rules).evaluate("d", {"score": 1})
        assert result.matched == []
        assert result.outputs == {"priority": None, "points": None}
        assert result.annotations == []


def test_first_returns_first_in_rule_order() -> None:
    result = model("FIRST").evaluate("d", {"score": 7})
    assert result.matched == ["r1"]
    assert result.outputs == {"priority": "P2", "points": 10}
    assert result.annotations == ["big"]


def test_priority_orders_by_output_values() -> None:
    result = model("PRIORITY").evaluate("d", {"score": 7})
    assert result.matched == ["r2"]  # P1 is first in the outputValues list
    assert result.outputs == {"priority": "P1", "points": 20}


def test_priority_uses_next_output_when_first_ties() -> None:
    outputs = [Out("level", allowed='"high","low"'), Out("team", allowed='"ops","dev"')]
    rules = [
        R(["-"], ['"high"', '"dev"'], id="a"),
        R(["-"], ['"high"', '"ops"'], id="b"),
        R(["-"], ['"low"', '"ops"'], id="c"),
    ]
    result = model("PRIORITY", rules, outputs=outputs).evaluate("d", {"score": 1})
    assert result.matched == ["b"]
    assert result.outputs == {"level": "high", "team": "ops"}


def test_priority_equal_rank_keeps_rule_order() -> None:
    rules = [R(["-"], ['"P2"', "1"], id="x"), R(["-"], ['"P2"', "2"], id="y")]
    assert model("PRIORITY", rules).evaluate("d", {"score": 1}).matched == ["x"]


def test_any_with_equal_outputs() -> None:
    rules = [
        R(["> 5"], ['"P1"', "1"], id="a"),
        R(["> 3"], ['"P1"', "1.0"], id="b"),
        R(["< 0"], ['"P3"', "3"], id="c"),
    ]
    result = model("ANY", rules).evaluate("d", {"score": 7})
    assert result.matched == ["a", "b"]
    assert result.outputs == {"priority": "P1", "points": 1}


def test_any_disagreement_is_an_error() -> None:
    with pytest.raises(EvaluationError) as info:
        model("ANY").evaluate("d", {"score": 7})
    assert info.value.rule_ids == ["r1", "r2", "r3"]
    assert "ANY" in info.value.message and "priority" in info.value.message


def test_rule_order_lists_in_rule_order() -> None:
    result = model("RULE ORDER").evaluate("d", {"score": 7})
    assert result.matched == ["r1", "r2", "r3"]
    assert result.outputs == {"priority": ["P2", "P1", "P3"], "points": [10, 20, 30]}
    assert result.annotations == ["big", "fallback"]


def test_output_order_sorts_by_priority_list() -> None:
    result = model("OUTPUT ORDER").evaluate("d", {"score": 7})
    assert result.matched == ["r2", "r1", "r3"]
    assert result.outputs == {"priority": ["P1", "P2", "P3"], "points": [20, 10, 30]}


def test_collect_lists() -> None:
    result = model("COLLECT").evaluate("d", {"score": 4})
    assert result.matched == ["r2", "r3"]
    assert result.outputs == {"priority": ["P1", "P3"], "points": [20, 30]}


@pytest.mark.parametrize("policy", ["COLLECT", "RULE ORDER", "OUTPUT ORDER"])
def test_multi_result_no_match_gives_empty_lists(policy: str) -> None:
    result = model(policy, [R(["> 100"], ['"P1"', "1"])]).evaluate("d", {"score": 1})
    assert result.outputs == {"priority": [], "points": []}


@pytest.mark.parametrize(
    ("aggregation", "score", "expected"),
    [
        ("SUM", 7, 60),
        ("SUM", 4, 50),
        ("COUNT", 7, 3),
        ("MIN", 7, 10),
        ("MAX", 7, 30),
        ("COUNT", -1, 1),
    ],
)
def test_collect_aggregations(aggregation: str, score: int, expected: int) -> None:
    outputs = [Out("points", "integer")]
    rules = [R(["> 5"], ["10"]), R(["> 3"], ["20"]), R(["-"], ["30"])]
    m = model("COLLECT", rules, aggregation=aggregation, outputs=outputs)
    result = m.evaluate("d", {"score": score})
    assert result.outputs == {"points": expected}
    assert result.hit_policy == f"COLLECT {aggregation}"


@pytest.mark.parametrize(
    ("aggregation", "expected"), [("SUM", None), ("MIN", None), ("MAX", None), ("COUNT", 0)]
)
def test_collect_aggregation_without_match(aggregation: str, expected: object) -> None:
    m = model("COLLECT", [R(["> 100"], ["1"])], aggregation=aggregation, outputs=[Out("points", "integer")])
    assert m.evaluate("d", {"score": 1}).outputs == {"points": expected}


def test_collect_sum_skips_nulls_and_sums_durations() -> None:
    rules = [R(["-"], ['duration("PT1H")']), R(["-"], [""]), R(["-"], ['duration("PT30M")'])]
    m = model("COLLECT", rules, aggregation="SUM", outputs=[Out("effort", "dayTimeDuration")])
    result = m.evaluate("d", {"score": 1})
    assert result.outputs == {"effort": timedelta(minutes=90)}
    assert result.to_dict()["outputs"] == {"effort": "PT1H30M"}
    count = model("COLLECT", rules, aggregation="COUNT", outputs=[Out("effort", "dayTimeDuration")])
    assert count.evaluate("d", {"score": 1}).outputs == {"effort": 2}


def test_collect_sum_of_strings_is_an_error() -> None:
    m = model("COLLECT", [R(["-"], ['"a"']), R(["-"], ['"b"'])], aggregation="SUM", outputs=[Out("x")])
    with pytest.raises(EvaluationError, match="SUM"):
        m.evaluate("d", {"score": 1})


def test_collect_max_of_mixed_kinds_is_an_error() -> None:
    m = model("COLLECT", [R(["-"], ['"a"']), R(["-"], ["1"])], aggregation="MAX", outputs=[Out("x", None)])
    with pytest.raises(EvaluationError, match="MAX"):
        m.evaluate("d", {"score": 1})


def test_collect_min_of_strings() -> None:
    m = model("COLLECT", [R(["-"], ['"b"']), R(["-"], ['"a"'])], aggregation="MIN", outputs=[Out("x")])
    assert m.evaluate("d", {"score": 1}).outputs == {"x": "a"}


def test_output_entries_may_be_expressions() -> None:
    rules = [R(["> 5"], ['"P1"', "score * 10"]), R(["<= 5"], ['"P2"', "score + bonus"])]
    m = model("UNIQUE", rules)
    assert m.evaluate("d", {"score": 7}).outputs == {"priority": "P1", "points": 70}
    assert m.evaluate("d", {"score": 2, "bonus": 3}).outputs == {"priority": "P2", "points": 5}
    assert m.evaluate("d", {"score": 2}).outputs == {"priority": "P2", "points": None}


@pytest.mark.parametrize(
    ("hit_policy", "aggregation", "fragment"),
    [
        ("SOMETIMES", None, 'unknown hit policy "SOMETIMES"'),
        ("UNIQUE", "SUM", "only applies to COLLECT"),
        ("COLLECT", "AVERAGE", 'unknown aggregation "AVERAGE"'),
    ],
)
def test_bad_hit_policy_configuration(hit_policy: str, aggregation: str | None, fragment: str) -> None:
    with pytest.raises(DmnParseError) as info:
        model(hit_policy, aggregation=aggregation)
    assert any(fragment in p.message and p.decision_id == "d" for p in info.value.problems)


def test_hit_policy_spelling_is_normalised() -> None:
    assert model("rule_order").decisions["d"].hit_policy == "RULE ORDER"
    assert model("Output Order").decisions["d"].hit_policy == "OUTPUT ORDER"


@pytest.mark.parametrize("policy", ["PRIORITY", "OUTPUT ORDER"])
def test_priority_policies_need_output_values(policy: str) -> None:
    with pytest.raises(DmnParseError) as info:
        model(policy, outputs=[Out("priority"), Out("points", "integer")])
    assert any("needs output values" in p.message for p in info.value.problems)


def test_priority_output_outside_the_allowed_list_is_reported() -> None:
    rules = [R(["-"], ['"P9"', "1"], id="odd")]
    with pytest.raises(DmnParseError) as info:
        model("PRIORITY", rules)
    (problem,) = info.value.problems
    assert (problem.rule_id, problem.cell) == ("odd", "output 1 (priority)")
    assert '"P9" is not one of the output values' in problem.message
