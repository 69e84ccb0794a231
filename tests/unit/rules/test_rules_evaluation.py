"""Evaluation contract: data handling, required-decision context, evidence, errors, values, speed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from engine.rules import Evaluation, EvaluationError, RulesError, parse_dmn
from engine.rules.values import coercer_for, feel_text, format_duration, parse_duration, to_json

from .dmn_builder import In, Out, R, Table, dmn


def test_unknown_decision_and_bad_data() -> None:
    model = parse_dmn(dmn(Table("d", [In("x")], [Out("y")], [])))
    with pytest.raises(EvaluationError, match="unknown decision"):
        model.evaluate("nope", {})
    with pytest.raises(EvaluationError, match="mapping"):
        model.evaluate("d", ["not", "a", "dict"])  # type: ignore[arg-type]
    assert issubclass(EvaluationError, RulesError)


def test_data_is_not_mutated() -> None:
    model = parse_dmn(
        dmn(
            Table("a", [In("x")], [Out("y")], [R(["-"], ['"from a"'])]),
            Table("b", [In("y")], [Out("z")], [R(["-"], ["y"])], required=["a"]),
        )
    )
    data = {"x": 1}
    assert model.evaluate("b", data).outputs == {"z": "from a"}
    assert data == {"x": 1}


def test_required_outputs_by_name_and_by_decision_id() -> None:
    model = parse_dmn(
        dmn(
            Table(
                "impact_level",
                [In("x")],
                [Out("impact"), Out("score", "integer")],
                [R(["-"], ['"high"', "3"])],
            ),
            Table("urgency", [In("x")], [Out("urgency")], [R(["-"], ['"low"'])]),
            Table(
                "final",
                [In("impact"), In("impact_level.score"), In("urgency")],
                [Out("out")],
                [R(['"high"', "3", '"low"'], ['"ok"'])],
                required=["impact_level", "urgency"],
            ),
        )
    )
    result = model.evaluate("final", {"x": 0})
    assert result.outputs == {"out": "ok"}
    # a decision whose id equals its output name exposes the value, not a dict, under that name
    assert result.inputs["urgency"] == "low"


def test_required_outputs_override_data() -> None:
    model = parse_dmn(
        dmn(
            Table("a", [In("x")], [Out("y")], [R(["-"], ['"computed"'])]),
            Table("b", [In("y")], [Out("z")], [R(["-"], ["y"])], required=["a"]),
        )
    )
    assert model.evaluate("b", {"y": "supplied"}).outputs == {"z": "computed"}


def test_diamond_requirements_evaluate_shared_decision_once() -> None:
    model = parse_dmn(
        dmn(
            Table("base", [In("x")], [Out("b", "integer")], [R(["-"], ["x + 1"])]),
            Table("left", [In("b")], [Out("l", "integer")], [R(["-"], ["b * 2"])], required=["base"]),
            Table("right", [In("b")], [Out("r", "integer")], [R(["-"], ["b * 3"])], required=["base"]),
            Table(
                "top", [In("l + r")], [Out("t", "integer")], [R(["-"], ["l + r"])], required=["left", "right"]
            ),
        )
    )
    result = model.evaluate("top", {"x": 1})
    assert result.outputs == {"t": 10}
    assert result.required[0].required[0] is result.required[1].required[0]


def test_required_decision_error_propagates() -> None:
    model = parse_dmn(
        dmn(
            Table("a", [In("x")], [Out("y")], [R(["-"], ["1"], id="a1"), R(["-"], ["2"], id="a2")]),
            Table("b", [In("y")], [Out("z")], [R(["-"], ["y"])], required=["a"]),
        )
    )
    with pytest.raises(EvaluationError) as info:
        model.evaluate("b", {})
    assert info.value.decision_id == "a" and info.value.rule_ids == ["a1", "a2"]


def test_multi_result_explanation_and_evidence() -> None:
    model = parse_dmn(
        dmn(
            Table(
                "d",
                [In("n", "N", "integer")],
                [Out("tag")],
                [
                    R(["> 1"], ['"big"'], id="a", description="bigger than one"),
                    R(["-"], ['"any"'], id="b"),
                ],
                hit_policy="COLLECT",
            )
        )
    )
    result = model.evaluate("d", {"n": 5})
    assert result.explain() == (
        'tag = ["big", "any"] because rules of d matched: a matched N=5 (> 1); '
        "b matched (it applies to any input) [bigger than one]"
    )
    assert result.to_dict()["conditions"] == {"a": [{"input": "N", "test": "> 1"}], "b": []}
    empty = model.evaluate("d", {"n": None})
    assert empty.outputs == {"tag": ["any"]}


def test_no_match_explanation_for_collect() -> None:
    model = parse_dmn(
        dmn(
            Table("d", [In("n", "N", "integer")], [Out("tag")], [R(["> 1"], ['"big"'])], hit_policy="COLLECT")
        )
    )
    assert model.evaluate("d", {"n": 0}).explain() == "no rule of d matched N=0, so tag = []"


def test_evaluation_to_dict_is_json_safe_for_all_value_kinds() -> None:
    evaluation = Evaluation(
        decision_id="d",
        decision_name="D",
        version=None,
        inputs={
            "a": date(2026, 1, 2),
            "b": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            "c": timedelta(hours=4),
            "d": Decimal("1.5"),
            "e": Decimal("2"),
            "f": {"nested": [date(2026, 1, 1)]},
            "g": object(),
        },
        matched=[],
        outputs={"x": None},
        annotations=[],
    )
    data = evaluation.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["inputs"]["a"] == "2026-01-02"
    assert data["inputs"]["b"] == "2026-01-02T03:04:05+00:00"
    assert data["inputs"]["c"] == "PT4H"
    assert data["inputs"]["d"] == 1.5 and data["inputs"]["e"] == 2
    assert data["inputs"]["f"] == {"nested": ["2026-01-01"]}


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("PT4H", timedelta(hours=4)),
        ("P1DT2H30M", timedelta(days=1, hours=2, minutes=30)),
        ("P2D", timedelta(days=2)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("-PT15M", timedelta(minutes=-15)),
        ("PT0S", timedelta(0)),
    ],
)
def test_duration_round_trip(text: str, delta: timedelta) -> None:
    assert parse_duration(text) == delta
    assert format_duration(delta) == text


@pytest.mark.parametrize("text", ["P", "PT", "P1DT", "4H", "PT4", "P1Y", "P1M", ""])
def test_invalid_durations(text: str) -> None:
    assert parse_duration(text) is None


def test_feel_text_renders_literals() -> None:
    assert feel_text(None) == "null"
    assert feel_text(True) == "true"
    assert feel_text('a"b') == '"a\\"b"'
    assert feel_text(date(2026, 1, 1)) == 'date("2026-01-01")'
    assert feel_text(timedelta(hours=1)) == 'duration("PT1H")'
    assert feel_text([1, "x"]) == '[1, "x"]'
    assert feel_text({"k": 1}) == "{k: 1}"


def test_coercers() -> None:
    assert coercer_for(None) is None and coercer_for("string") is None and coercer_for("boolean") is None
    assert coercer_for("integer")(5.0) == 5  # type: ignore[misc]
    assert coercer_for("long")(5.5) == 5.5  # type: ignore[misc]
    assert coercer_for("double")(5) == 5.0 and type(coercer_for("double")(5)) is float  # type: ignore[misc]
    assert coercer_for("double")(True) is True  # type: ignore[misc]
    assert coercer_for("feel:date")("2026-01-01") == date(2026, 1, 1)  # type: ignore[misc]
    assert coercer_for("dateTime")("2026-01-01") == datetime(2026, 1, 1)  # type: ignore[misc]
    assert coercer_for("dateTime")(date(2026, 1, 1)) == datetime(2026, 1, 1)  # type: ignore[misc]
    assert coercer_for("date")(datetime(2026, 1, 1, 5)) == date(2026, 1, 1)  # type: ignore[misc]
    assert to_json(to_json) == str(to_json)


def test_outputs_are_coerced_by_type_ref() -> None:
    model = parse_dmn(
        dmn(
            Table(
                "d",
                [In("x")],
                [Out("n", "integer"), Out("when", "date")],
                [R(["-"], ["x / 2", '"2026-05-01"'])],
            )
        )
    )
    result = model.evaluate("d", {"x": 8.0})
    assert result.outputs == {"n": 4, "when": date(2026, 5, 1)}
    assert type(result.outputs["n"]) is int
