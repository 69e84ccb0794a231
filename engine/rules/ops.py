"""FEEL operators on Python values. Every operator is total: type mismatches and nulls give null."""

from __future__ import annotations

from typing import Any

from .values import BOOLEAN, DATE, DATETIME, DURATION, NUMBER, STRING, as_utc, compare, equal, kind_of

_TEMPORAL = (DATE, DATETIME)


def _tidy(value: Any) -> Any:
    # 6 / 2 should read 3 in an explanation, not 3.0.
    if type(value) is float and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def add(a: Any, b: Any) -> Any:
    ka, kb = kind_of(a), kind_of(b)
    try:
        if ka == kb and ka in (NUMBER, STRING, DURATION):
            return a + b
        if ka in _TEMPORAL and kb == DURATION:
            return a + b
        if ka == DURATION and kb in _TEMPORAL:
            return b + a
    except (TypeError, ArithmeticError, OverflowError):
        return None
    return None


def subtract(a: Any, b: Any) -> Any:
    ka, kb = kind_of(a), kind_of(b)
    try:
        if ka == kb and ka in (NUMBER, DURATION, DATE):
            return a - b
        if ka == kb == DATETIME:
            return as_utc(a) - as_utc(b)
        if ka in _TEMPORAL and kb == DURATION:
            return a - b
    except (TypeError, ArithmeticError, OverflowError):
        return None
    return None


def multiply(a: Any, b: Any) -> Any:
    ka, kb = kind_of(a), kind_of(b)
    try:
        if ka == kb == NUMBER:
            return a * b
        if ka == DURATION and kb == NUMBER:
            return a * b
        if ka == NUMBER and kb == DURATION:
            return b * a
    except (TypeError, ArithmeticError, OverflowError):
        return None
    return None


def divide(a: Any, b: Any) -> Any:
    ka, kb = kind_of(a), kind_of(b)
    try:
        if ka == kb == NUMBER:
            if type(a) is int and type(b) is int and b != 0 and a % b == 0:
                return a // b
            return _tidy(a / b)
        if ka == DURATION and kb == NUMBER:
            return a / b
        if ka == kb == DURATION:
            return _tidy(a / b)
    except (TypeError, ArithmeticError, OverflowError):
        return None
    return None


def negate(a: Any) -> Any:
    return -a if kind_of(a) in (NUMBER, DURATION) else None


def feel_not(a: Any) -> Any:
    return (not a) if kind_of(a) == BOOLEAN else None


def eq(a: Any, b: Any) -> bool:
    return equal(a, b)


def ne(a: Any, b: Any) -> bool:
    return not equal(a, b)


def lt(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c < 0


def le(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c <= 0


def gt(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c > 0


def ge(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c >= 0


def conjunction(a: Any, b: Any) -> bool | None:
    # FEEL three-valued logic: false wins over null, null wins over true.
    if a is False or b is False:
        return False
    if a is True and b is True:
        return True
    return None


def disjunction(a: Any, b: Any) -> bool | None:
    if a is True or b is True:
        return True
    if a is False and b is False:
        return False
    return None


BINARY = {
    "+": add, "-": subtract, "*": multiply, "/": divide,
    "=": eq, "!=": ne, "<": lt, "<=": le, ">": gt, ">=": ge,
    "and": conjunction, "or": disjunction,
}
