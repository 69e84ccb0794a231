"""Compiled FEEL expressions: closures over the evaluation context, with constants folded at compile time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from . import ops
from .lexer import FeelError
from .values import feel_text, is_year_month_duration, parse_date, parse_datetime, parse_duration

Context = Mapping[str, Any]
Getter = Callable[[Context], Any]

_MISSING = object()


class Expr:
    """A compiled expression: ``fn(ctx)`` evaluates it; constants carry ``value`` to specialise on."""

    __slots__ = ("fn", "is_const", "value")

    def __init__(self, fn: Getter, is_const: bool = False, value: Any = None) -> None:
        self.fn = fn
        self.is_const = is_const
        self.value = value


def const(value: Any) -> Expr:
    return Expr(lambda ctx: value, True, value)


def path(parts: list[str]) -> Expr:
    """Variable or dotted path; anything missing along the way reads as null, as FEEL does for absent keys."""
    head = parts[0]
    if len(parts) == 1:
        return Expr(lambda ctx: ctx.get(head))
    full = ".".join(parts)
    rest = tuple(parts[1:])

    def walk(ctx: Context) -> Any:
        cur = ctx.get(head, _MISSING)
        if cur is _MISSING:
            # Callers sometimes flatten nested data to "ticket.impact" keys; honour that, don't read null.
            return ctx.get(full)
        for key in rest:
            # The exact-type test first: isinstance() against the Mapping ABC is several times slower.
            if type(cur) is dict or isinstance(cur, Mapping):
                cur = cur.get(key)
            else:
                return None
        return cur

    return Expr(walk)


def binary(op: str, left: Expr, right: Expr) -> Expr:
    fn = ops.BINARY[op]
    if left.is_const and right.is_const:
        return const(fn(left.value, right.value))
    lf, rf = left.fn, right.fn
    return Expr(lambda ctx: fn(lf(ctx), rf(ctx)))


def unary(fn: Callable[[Any], Any], operand: Expr) -> Expr:
    if operand.is_const:
        return const(fn(operand.value))
    of = operand.fn
    return Expr(lambda ctx: fn(of(ctx)))


# ---------------------------------------------------------------------------------------------- functions


def _date(value: Any) -> date | None:
    if isinstance(value, str):
        return parse_date(value)
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _date_and_time(value: Any) -> datetime | None:
    if isinstance(value, str):
        stamp = parse_datetime(value)
        if stamp is None:
            day = parse_date(value)
            stamp = datetime(day.year, day.month, day.day) if day is not None else None
        return stamp
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return None


def _duration(value: Any) -> timedelta | None:
    if isinstance(value, str):
        return parse_duration(value)
    return value if isinstance(value, timedelta) else None


_FUNCTIONS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "date": (_date, "a date like \"2026-01-31\""),
    "date and time": (_date_and_time, "a date and time like \"2026-01-31T09:30:00\" (Z or +01:00 optional)"),
    "duration": (_duration, "a days-and-time duration like \"PT4H\" or \"P1DT2H30M\""),
    "not": (ops.feel_not, "a boolean"),
}

SUPPORTED_FUNCTIONS = tuple(_FUNCTIONS)


def call(name: str, args: list[Expr]) -> Expr:
    if name not in _FUNCTIONS:
        raise FeelError(f"function {name}() is not supported (only {', '.join(SUPPORTED_FUNCTIONS)})")
    if len(args) != 1:
        raise FeelError(f"{name}() takes exactly one argument, got {len(args)}")
    fn, expected = _FUNCTIONS[name]
    arg = args[0]
    result = unary(fn, arg)
    # A bad literal is a modelling mistake we can see now; a bad runtime value is just null, as in FEEL.
    if arg.is_const and result.value is None and arg.value is not None:
        text = arg.value
        if name == "duration" and isinstance(text, str) and is_year_month_duration(text):
            raise FeelError(f"years-and-months durations such as {feel_text(text)} are not supported")
        raise FeelError(f"{name}({feel_text(text)}) is not valid: expected {expected}")
    return result
