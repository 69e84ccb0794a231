"""FEEL expressions (input expressions, output entries), value lists, rejected cells, typeRef coercion."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from engine.rules import DmnParseError, parse_dmn
from engine.rules.feel import compile_expression, compile_unary_tests, compile_value_list
from engine.rules.lexer import FeelError

from .dmn_builder import In, Out, R, Table, dmn, one_input


@pytest.mark.parametrize(
    ("text", "ctx", "expected"),
    [
        ("impact", {"impact": "high"}, "high"),
        ("missing", {}, None),
        ("ticket.impact", {"ticket": {"impact": "high"}}, "high"),
        ("ticket.service.critical", {"ticket": {"service": {"critical": True}}}, True),
        ("ticket.impact", {"ticket": None}, None),
        ("ticket.impact", {"ticket": "text"}, None),
        ("ticket.impact", {}, None),
        ("ticket.impact", {"ticket.impact": "flat"}, "flat"),
        ("risk_likelihood * risk_impact", {"risk_likelihood": 3, "risk_impact": 4}, 12),
        ("(a + b) * c", {"a": 1, "b": 2, "c": 3}, 9),
        ("a + b * c", {"a": 1, "b": 2, "c": 3}, 7),
        ("a - b - c", {"a": 10, "b": 2, "c": 3}, 5),
        ("a / b", {"a": 6, "b": 2}, 3),
        ("a / b", {"a": 7, "b": 2}, 3.5),
        ("a / b", {"a": 1, "b": 0}, None),
        ("-a", {"a": 2}, -2),
        ("a + 1", {"a": None}, None),
        ("a + 1", {"a": "1"}, None),
        ("a + 1", {"a": True}, None),
        ('a + "!"', {"a": "hi"}, "hi!"),
        ("a > 2", {"a": 3}, True),
        ("a > 2", {"a": None}, None),
        ("a = null", {"a": None}, True),
        ("a != b", {"a": 1, "b": 2}, True),
        ("a > 2 and b", {"a": 3, "b": True}, True),
        ("a > 2 and b", {"a": 1, "b": None}, False),
        ("a > 2 and b", {"a": 3, "b": None}, None),
        ("a or b", {"a": None, "b": True}, True),
        ("a or b", {"a": False, "b": False}, False),
        ("not(a)", {"a": False}, True),
        ("not(a)", {"a": 1}, None),
        ('date("2026-01-31")', {}, date(2026, 1, 31)),
        ("date(d)", {"d": "2026-01-31"}, date(2026, 1, 31)),
        ("date(d)", {"d": "nonsense"}, None),
        ("date(d)", {"d": datetime(2026, 1, 31, 9)}, date(2026, 1, 31)),
        ('date and time("2026-01-31T09:30:00Z")', {}, datetime(2026, 1, 31, 9, 30, tzinfo=UTC)),
        (
            'date and time("2026-01-31T09:30:00.123456789+01:00")',
            {},
            datetime(2026, 1, 31, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=1))),
        ),
        ('date("2026-01-31") + duration("P1D")', {}, date(2026, 2, 1)),
        (
            'date and time(t) + duration("PT4H")',
            {"t": "2026-01-31T22:00:00Z"},
            datetime(2026, 2, 1, 2, 0, tzinfo=UTC),
        ),
        (
            'date and time("2026-01-02T00:00:00") - date and time("2026-01-01T12:00:00")',
            {},
            timedelta(hours=12),
        ),
        ('duration("PT1H") * 3', {}, timedelta(hours=3)),
        ('duration("PT3H") / duration("PT1H")', {}, 3),
        ('"a"', {}, "a"),
        ("null", {}, None),
        ("42", {}, 42),
        ("-1.5", {}, -1.5),
    ],
)
def test_expressions(text: str, ctx: dict, expected: object) -> None:
    assert compile_expression(text).fn(ctx) == expected
    assert type(compile_expression(text).fn(ctx)) is type(expected)


def test_constant_expressions_are_folded_at_compile_time() -> None:
    expr = compile_expression("(2 + 3) * 4")
    assert expr.is_const and expr.value == 20
    assert not compile_expression("a * 4").is_const


def test_value_lists() -> None:
    assert compile_value_list('"P1","P2", "P3"') == ("P1", "P2", "P3")
    assert compile_value_list("1, 2.5, -3") == (1, 2.5, -3)
    assert compile_value_list("") == ()
    with pytest.raises(FeelError, match="literals"):
        compile_value_list('"P1", other')


@pytest.mark.parametrize(
    ("cell", "fragment"),
    [
        ("foo(1)", "function foo() is not supported"),
        ('upper case("a")', "unexpected 'case'"),
        ("if a then b else c", "if-then-else"),
        ("for x in xs return x", "for loops"),
        ("some x in xs satisfies x > 1", "quantified"),
        ("every x in xs satisfies x > 1", "quantified"),
        ("x instance of number", "instance of"),
        ("function(x) x", "function definitions"),
        ("x between 1 and 5", "between"),
        ("x in [1..5]", "'in' is not supported"),
        ('"abc', "unbalanced quotes"),
        ("'abc'", "double quotes"),
        ("? > 5", "placeholder is not supported"),
        ("[1..5", "must end with"),
        ("[1 5]", "expected '..'"),
        ("<", "incomplete"),
        ('"a",', "a test is missing"),
        ('"a" "b"', 'unexpected string "b"'),
        ("x > 5", "not a full expression"),
        ('impact = "high"', "not a full expression"),
        ("2 ** 3", "exponentiation"),
        ('date("2026-13-01")', "not valid"),
        ('date("yesterday")', "not valid"),
        ('date and time("2026-01-01 at noon")', "not valid"),
        ('duration("4 hours")', "not valid"),
        ('duration("P1Y2M")', "years-and-months"),
        ("date(2026, 1, 1)", "exactly one argument"),
        ("[5..1]", "empty range"),
        ('[1.."z"]', "differ in type"),
        ("< null", "can never match"),
        ("> true", "can never match"),
        ('"a", not("b")', "must enclose the whole input entry"),
        ("not(1", "expected ')'"),
        ("{a: 1}", "unexpected character '{'"),
        ("[1, 2]", "expected '..'"),
        ("1" * 5000, "too long"),
        ("+".join(["a"] * 300), "too long"),
        ("(" * 400 + "1" + ")" * 400, "nested too deeply"),
    ],
)
def test_unsupported_cells_are_rejected(cell: str, fragment: str) -> None:
    with pytest.raises(FeelError) as info:
        compile_unary_tests(cell)
    message = str(info.value)
    assert message.startswith("unsupported FEEL")
    assert fragment in message


def test_error_message_quotes_the_cell() -> None:
    with pytest.raises(FeelError) as info:
        compile_unary_tests("foo(1)")
    assert str(info.value).startswith('unsupported FEEL "foo(1)"')


def test_nested_parentheses_within_limits_are_fine() -> None:
    assert compile_expression("(" * 30 + "a" + ")" * 30).fn({"a": 1}) == 1


def test_cells_compile_once_not_per_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    model = parse_dmn(one_input("[1..5]", "integer"))
    import engine.rules.feel as feel

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("re-parsed at evaluation")

    monkeypatch.setattr(feel, "tokenize", boom)
    monkeypatch.setattr(feel, "_Parser", boom)
    assert model.evaluate("t", {"x": 3}).outputs == {"hit": True}


def test_typeref_coercion_of_inputs() -> None:
    xml = dmn(
        Table(
            "t",
            [
                In("d", type_ref="date"),
                In("dt", type_ref="dateTime"),
                In("n", type_ref="integer"),
                In("dur", type_ref="dayTimeDuration"),
                In("s", type_ref="string"),
            ],
            [Out("ok", "boolean")],
            [
                R(
                    [
                        '< date("2026-01-01")',
                        '> date and time("2026-01-01T00:00:00Z")',
                        "5",
                        '< duration("PT1H")',
                        '"5"',
                    ],
                    ["true"],
                )
            ],
        )
    )
    model = parse_dmn(xml)
    data = {"d": "2025-06-01", "dt": "2026-01-01T10:00:00+02:00", "n": 5.0, "dur": "PT30M", "s": "5"}
    result = model.evaluate("t", data)
    assert result.outputs == {"ok": True}
    assert result.inputs["d"] == date(2025, 6, 1)
    assert result.inputs["n"] == 5 and type(result.inputs["n"]) is int
    assert result.inputs["dur"] == timedelta(minutes=30)
    # a date column accepts a date-time string and keeps its date part; strings in number columns stay strings
    assert model.evaluate("t", {**data, "d": "2025-06-01T23:00:00Z"}).outputs == {"ok": True}
    assert model.evaluate("t", {**data, "n": "5"}).outputs == {"ok": None}
    # bad ISO text is left alone, so it simply does not match
    assert model.evaluate("t", {**data, "d": "June"}).inputs["d"] == "June"


def test_unsupported_cell_through_parse_names_decision_rule_and_cell() -> None:
    xml = dmn(
        Table(
            "priority",
            [In("impact", "Impact"), In("urgency", "urgency")],
            [Out("priority")],
            [R(['"high"', "foo(1)"], ['"P1"'], id="r3")],
        )
    )
    with pytest.raises(DmnParseError) as info:
        parse_dmn(xml)
    (problem,) = info.value.problems
    assert (problem.decision_id, problem.rule_id, problem.cell) == ("priority", "r3", "input 2 (urgency)")
    assert problem.message.startswith('unsupported FEEL "foo(1)"')


def test_random_token_soup_only_ever_raises_feel_error() -> None:
    """Whatever a modeller types, compiling raises FeelError or yields predicates that return booleans."""
    import random

    pieces = [
        '"a"',
        "1",
        "-",
        "2.5",
        "..",
        "[",
        "]",
        "(",
        ")",
        ",",
        "<",
        "<=",
        ">",
        "=",
        "!=",
        "not",
        "null",
        "true",
        "x",
        "x.y",
        "+",
        "*",
        "/",
        "date",
        "date and time",
        "duration",
        '"2026-01-01"',
        '"PT4H"',
        "and",
        "or",
        " ",
        '"',
        "\\",
        ".",
        "if",
        "?",
    ]
    values = [
        None,
        1,
        2.5,
        "a",
        True,
        date(2026, 1, 1),
        datetime(2026, 1, 1),
        timedelta(hours=1),
        [1],
        {"y": 2},
    ]
    rnd = random.Random(20260101)
    for _ in range(3000):
        text = "".join(rnd.choice(pieces) + rnd.choice(["", " "]) for _ in range(rnd.randint(1, 8)))
        ctx = {"x": rnd.choice(values)}
        try:
            test = compile_unary_tests(text)
        except FeelError:
            pass
        else:
            assert all(test.fn(v, ctx) in (True, False) for v in values), text
        try:
            compile_expression(text).fn(ctx)
        except FeelError:
            pass
