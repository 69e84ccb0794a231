"""FEEL subset: every unary-test form, expressions, and what is rejected (and how it is reported)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from engine.rules.feel import compile_unary_tests


def matches(cell: str, value: object, ctx: dict | None = None) -> bool:
    return compile_unary_tests(cell).fn(value, ctx or {})


@pytest.mark.parametrize(
    ("cell", "value", "expected"),
    [
        # wildcards
        ("-", "anything", True),
        ("-", None, True),
        ("", 42, True),
        ("   ", None, True),
        # string literals
        ('"high"', "high", True),
        ('"high"', "High", False),
        ('"high"', None, False),
        ('"high"', 1, False),
        ('"say \\"hi\\""', 'say "hi"', True),
        ('"caf\\u00e9"', "café", True),
        # numbers
        ("5", 5, True),
        ("5", 5.0, True),
        ("5", Decimal("5"), True),
        ("5", "5", False),
        ("1", True, False),  # true is not the number 1 in FEEL
        ("-3", -3, True),
        ("- 3", -3, True),
        ("2.5", 2.5, True),
        (".5", 0.5, True),
        # booleans and null
        ("true", True, True),
        ("true", 1, False),
        ("false", False, True),
        ("false", None, False),
        ("null", None, True),
        ("null", "", False),
        ("null", False, False),
        # comparisons
        ("< 3", 2, True),
        ("< 3", 3, False),
        ("<= 3", 3, True),
        ("> 3", 3.5, True),
        (">= 3", 3, True),
        (">= 3", 2.99, False),
        ("< -1", -2, True),
        ("< 3", "2", False),  # string vs number is a non-match, not an error
        ("< 3", None, False),  # comparisons with null are false
        ("< 3", True, False),
        ('< "m"', "apple", True),
        ('< "m"', "zebra", False),
        ("= 3", 3, True),
        ("!= 3", 4, True),
        ("!= 3", 3, False),
        ("!= 3", None, True),
        # ranges, all bracket forms
        ("[1..5]", 1, True),
        ("[1..5]", 5, True),
        ("[1..5]", 5.01, False),
        ("]1..5]", 1, False),
        ("(1..5]", 1, False),
        ("(1..5]", 1.5, True),
        ("[1..5)", 5, False),
        ("[1..5[", 5, False),
        ("[1..5[", 4.9, True),
        ("(1..5)", 3, True),
        ("[-5..-1]", -3, True),
        ("[1..5]", None, False),
        ("[1..5]", "3", False),
        ('["a".."c"]', "b", True),
        # lists
        ('"a","b"', "b", True),
        ('"a", "b"', "c", False),
        ('"a","b"', None, False),
        ("1, 2", 2, True),
        ("1, 2", 2.0, True),
        ("1, 2", True, False),
        ("1, 2", [1], False),  # unhashable data must not raise
        ('"a","b"', {"a": 1}, False),
        ("<3, >10", 11, True),
        ("<3, >10", 5, False),
        ("<3, [5..6], 9", 5.5, True),
        ('"a", 1', 1, True),
        ('"a", 1', "1", False),
        ("null, 1", None, True),
        # not(...)
        ('not("a")', "b", True),
        ('not("a")', "a", False),
        ('not("a")', None, True),
        ('not("a","b")', "b", False),
        ("not(<3, >10)", 5, True),
        ("not([1..5])", 6, True),
        ("not(null)", None, False),
        ("not(null)", 0, True),
        # dates, date-times, durations
        ('date("2026-01-01")', date(2026, 1, 1), True),
        ('date("2026-01-01")', datetime(2026, 1, 1), False),  # a date and time is not a date
        ('< date("2026-01-01")', date(2025, 12, 31), True),
        ('< date("2026-01-01")', "2025-12-31", False),  # text is only converted when typeRef says date
        ('[date("2026-01-01")..date("2026-01-31")]', date(2026, 1, 15), True),
        ('[date("2026-01-01")..date("2026-01-31")]', date(2026, 2, 1), False),
        ('date and time("2026-01-01T10:00:00")', datetime(2026, 1, 1, 10), True),
        ('date and time("2026-01-01T10:00:00Z")', datetime(2026, 1, 1, 10, tzinfo=UTC), True),
        # naive values and literals are read as UTC so they compare with offsets
        (
            'date and time("2026-01-01T10:00:00")',
            datetime(2026, 1, 1, 11, tzinfo=timezone(timedelta(hours=1))),
            True,
        ),
        ('> date and time("2026-01-01T10:00:00+02:00")', datetime(2026, 1, 1, 8, 30, tzinfo=UTC), True),
        ('< date and time("2026-01-01T10:00:00")', datetime(2026, 1, 1, 9, 59), True),
        (
            '[date and time("2026-01-01T00:00:00")..date and time("2026-01-02T00:00:00")]',
            datetime(2026, 1, 1, 12, tzinfo=UTC),
            True,
        ),
        ('duration("PT4H")', timedelta(hours=4), True),
        ('> duration("PT4H")', timedelta(hours=4, seconds=1), True),
        ('< duration("P1DT2H30M")', timedelta(days=1, hours=2, minutes=29), True),
        ('[duration("PT1H")..duration("P1D")]', timedelta(hours=5), True),
        ('[duration("PT1H")..duration("P1D")]', 5, False),
        ('duration("PT90S")', timedelta(seconds=90), True),
        ('duration("P1W")', timedelta(days=7), True),
        ('duration("-PT1H")', timedelta(hours=-1), True),
    ],
)
def test_unary_test_forms(cell: str, value: object, expected: bool) -> None:
    assert matches(cell, value) is expected


@pytest.mark.parametrize(
    ("cell", "value", "ctx", "expected"),
    [
        ("< limit", 3, {"limit": 4}, True),
        ("< limit", 5, {"limit": 4}, False),
        ("< limit", 3, {}, False),  # missing variable is null; comparisons with null are false
        ("limit", 4, {"limit": 4}, True),
        ("[low..high]", 5, {"low": 1, "high": 9}, True),
        ("[low..high)", 9, {"low": 1, "high": 9}, False),
        ("> ticket.threshold * 2", 7, {"ticket": {"threshold": 3}}, True),
        ("not(team)", "ops", {"team": "ops"}, False),
        ('"x", other', 2, {"other": 2}, True),
        ("< cutoff", date(2026, 1, 1), {"cutoff": date(2026, 2, 1)}, True),
    ],
)
def test_unary_tests_may_name_variables(cell: str, value: object, ctx: dict, expected: bool) -> None:
    assert matches(cell, value, ctx) is expected
