"""Unary-test predicates ``fn(value, ctx) -> bool`` built once per cell.

Constant cells (the overwhelming majority) get closures specialised on the literal's kind, so a match costs
one type check and one C-level comparison; only cells naming variables use the generic FEEL comparison.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from .expr import Expr
from .lexer import FeelError
from .values import (
    BOOLEAN,
    DATE,
    DATETIME,
    DURATION,
    KIND_NAMES,
    NULL,
    NUMBER,
    NUMBER_TYPES,
    OTHER,
    STRING,
    as_utc,
    compare,
    equal,
    feel_text,
    kind_of,
)

Predicate = Callable[[Any, Mapping[str, Any]], bool]

_NO_CONST = object()

_ORDER_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
# compare() results that satisfy each operator, for cells whose endpoint is only known at evaluation time.
_ORDER_RESULTS = {"<": (-1,), "<=": (-1, 0), ">": (1,), ">=": (1, 0)}
_KIND_TYPES = {
    NUMBER: NUMBER_TYPES,
    STRING: frozenset({str}),
    DATE: frozenset({date}),
    DURATION: frozenset({timedelta}),
}


class UnaryTest:
    """A compiled input entry. ``eq_const`` is the literal when the test is plain equality with a constant."""

    __slots__ = ("fn", "wildcard", "eq_const")

    def __init__(self, fn: Predicate, wildcard: bool = False, eq_const: Any = _NO_CONST) -> None:
        self.fn = fn
        self.wildcard = wildcard
        self.eq_const = eq_const

    @property
    def is_const_equality(self) -> bool:
        return self.eq_const is not _NO_CONST


WILDCARD = UnaryTest(lambda v, ctx: True, wildcard=True)


def build_equal(expr: Expr) -> UnaryTest:
    if not expr.is_const:
        get = expr.fn
        return UnaryTest(lambda v, ctx: equal(v, get(ctx)))
    c = expr.value
    kind = kind_of(c)
    fn: Predicate
    if kind == NULL:
        fn = lambda v, ctx: v is None  # noqa: E731 - tiny closures are the point of this module
    elif kind == NUMBER:
        fn = lambda v, ctx: type(v) in NUMBER_TYPES and v == c  # noqa: E731
    elif kind == STRING:
        fn = lambda v, ctx: v == c  # noqa: E731
    elif kind == BOOLEAN:
        fn = lambda v, ctx: v is c  # noqa: E731
    elif kind == DATETIME:
        cu = as_utc(c)
        fn = lambda v, ctx: type(v) is datetime and as_utc(v) == cu  # noqa: E731
    elif kind == DATE:
        fn = lambda v, ctx: type(v) is date and v == c  # noqa: E731
    elif kind == DURATION:
        fn = lambda v, ctx: type(v) is timedelta and v == c  # noqa: E731
    else:
        fn = lambda v, ctx: equal(v, c)  # noqa: E731
    return UnaryTest(fn, eq_const=c)


def _bounded(kind: int, bounds: list[tuple[Callable[[Any, Any], bool], Any]]) -> Predicate:
    """Predicate for one or two constant bounds of the same kind (comparison or range)."""
    if kind == DATETIME:
        utc_bounds = [(f, as_utc(c)) for f, c in bounds]
        if len(utc_bounds) == 1:
            (f, c), = utc_bounds
            return lambda v, ctx: type(v) is datetime and f(as_utc(v), c)
        (f1, c1), (f2, c2) = utc_bounds

        def dt_range(v: Any, ctx: Mapping[str, Any]) -> bool:
            if type(v) is not datetime:
                return False
            v = as_utc(v)
            return f1(v, c1) and f2(v, c2)

        return dt_range
    types = _KIND_TYPES[kind]
    if len(bounds) == 1:
        (f, c), = bounds
        return lambda v, ctx: type(v) in types and f(v, c)
    (f1, c1), (f2, c2) = bounds
    return lambda v, ctx: type(v) in types and f1(v, c1) and f2(v, c2)


def _orderable_kind(value: Any, what: str) -> int:
    kind = kind_of(value)
    if kind in (NULL, BOOLEAN, OTHER):
        raise FeelError(
            f"{what} {feel_text(value)} can never match: only numbers, strings, dates and durations "
            "are ordered"
        )
    return kind


def build_compare(op: str, expr: Expr) -> UnaryTest:
    if op == "=":
        return build_equal(expr)
    if op == "!=":
        return build_not(build_equal(expr))
    if expr.is_const:
        kind = _orderable_kind(expr.value, op)
        return UnaryTest(_bounded(kind, [(_ORDER_OPS[op], expr.value)]))
    get = expr.fn
    wanted = _ORDER_RESULTS[op]
    return UnaryTest(lambda v, ctx: compare(v, get(ctx)) in wanted)


def build_range(low: Expr, low_closed: bool, high: Expr, high_closed: bool) -> UnaryTest:
    low_op = ">=" if low_closed else ">"
    high_op = "<=" if high_closed else "<"
    if low.is_const and high.is_const:
        kind = _orderable_kind(low.value, "range start")
        if _orderable_kind(high.value, "range end") != kind:
            raise FeelError(
                f"range ends differ in type ({KIND_NAMES[kind]} and {KIND_NAMES[kind_of(high.value)]})"
            )
        if compare(low.value, high.value) == 1:
            raise FeelError(f"empty range: start {feel_text(low.value)} is after end {feel_text(high.value)}")
        return UnaryTest(_bounded(kind, [(_ORDER_OPS[low_op], low.value), (_ORDER_OPS[high_op], high.value)]))
    lo_get, hi_get = low.fn, high.fn
    lo_ok, hi_ok = _ORDER_RESULTS[low_op], _ORDER_RESULTS[high_op]
    return UnaryTest(lambda v, ctx: compare(v, lo_get(ctx)) in lo_ok and compare(v, hi_get(ctx)) in hi_ok)


def build_any(tests: list[UnaryTest]) -> UnaryTest:
    """A comma list: matches when any member matches."""
    if len(tests) == 1:
        return tests[0]
    if all(t.is_const_equality for t in tests):
        values = [t.eq_const for t in tests]
        kinds = {kind_of(v) for v in values}
        # Hash lookups are only safe within one kind: in Python 1 == True and hash(1) == hash(True).
        if kinds == {STRING}:
            strings = frozenset(values)
            return UnaryTest(lambda v, ctx: isinstance(v, str) and v in strings)
        if kinds == {NUMBER}:
            numbers = frozenset(values)
            return UnaryTest(lambda v, ctx: type(v) in NUMBER_TYPES and v in numbers)
    fns = tuple(t.fn for t in tests)
    if len(fns) == 2:
        f1, f2 = fns
        return UnaryTest(lambda v, ctx: f1(v, ctx) or f2(v, ctx))

    def any_of(v: Any, ctx: Mapping[str, Any]) -> bool:
        for f in fns:
            if f(v, ctx):
                return True
        return False

    return UnaryTest(any_of)


def build_not(test: UnaryTest) -> UnaryTest:
    inner = test.fn
    return UnaryTest(lambda v, ctx: not inner(v, ctx))
