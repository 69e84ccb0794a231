"""Resource limits for diagram code: the sizes one operation may make, how much data a step may save, how many
engine steps one transaction may take, and the process limits (memory) of a worker or web process.

The line budget (sandbox.py) stops endless loops; it cannot stop one heavy operation (`3 ** 10 ** 9`,
`"x" * 10 ** 10`). So `**`, `*` and `<<` in diagram code become calls to the guards below, which refuse a result
past the limit before computing it, and constant bombs are refused when the diagram is deployed.
Every limit is an environment setting (docs/security.md)."""

from __future__ import annotations

import ast
import math
import os
import resource
from collections.abc import Callable
from typing import Any

from RestrictedPython import RestrictingNodeTransformer


def _setting(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


MAX_INT_DIGITS = _setting("ITSMFLOW_SCRIPT_MAX_INT_DIGITS", 4300)  # Python's own limit for int <-> text
MAX_SEQUENCE = _setting("ITSMFLOW_SCRIPT_MAX_SEQUENCE", 1_000_000)  # items or characters one `*` may make
MAX_DATA_BYTES = _setting("ITSMFLOW_MAX_DATA_BYTES", 1_000_000)  # an instance's data as JSON
MAX_ENGINE_STEPS = _setting("ITSMFLOW_MAX_ENGINE_STEPS", 20_000)  # elements completed in one transaction
MEMORY_LIMIT_MB = _setting("ITSMFLOW_MEMORY_LIMIT_MB", 2048)  # address space of a worker/web process; 0: none
# Wall-clock limit of one call of diagram code that is not cheap by its shape (engine/spiff/bounded.py); such code
# runs in a script process killed at this limit. 0: everything runs in the calling process, with no time limit.
SCRIPT_TIMEOUT_MS = _setting("ITSMFLOW_SCRIPT_TIMEOUT_MS", 2000)

_MAX_BITS = int(MAX_INT_DIGITS * math.log2(10))


CHEAP_SEQUENCE = 100_000  # the longest text a `+` or `*` may make in code run in the calling process


class LimitExceeded(Exception):
    """An operation in diagram code would pass a limit."""


class NeedsIsolation(BaseException):  # a signal to the sandbox, not an error; `except Exception` misses it
    """Raised, in code run in the calling process because it looked cheap, by an operation that could make it
    costly (joining lists, long text): the sandbox runs the call again in a script process, under the timeout."""


def _int_bits(value: Any) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


def _refuse(what: str) -> LimitExceeded:
    return LimitExceeded(f"{what} is past the limit for diagram code")


def guarded_pow(base: Any, exp: Any, mod: Any = None) -> Any:
    if mod is None and isinstance(base, int) and isinstance(exp, int) and exp > 0 and abs(base) > 1:
        if (abs(base).bit_length() - 1) * exp > _MAX_BITS:
            raise _refuse(f"{base} ** {exp} (more than {MAX_INT_DIGITS} digits)")
    return pow(base, exp) if mod is None else pow(base, exp, mod)


def guarded_mul(left: Any, right: Any) -> Any:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, (str, bytes, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_SEQUENCE:
            raise _refuse(f"repeating a {type(seq).__name__} of length {len(seq)} {times} times")
    if isinstance(left, int) and isinstance(right, int) and _int_bits(left) + _int_bits(right) > _MAX_BITS:
        raise _refuse(f"a product of more than {MAX_INT_DIGITS} digits")
    return left * right


def guarded_lshift(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and left and _int_bits(left) + right > _MAX_BITS:
        raise _refuse(f"{left} << {right} (more than {MAX_INT_DIGITS} digits)")
    return left << right


def plain_add(left: Any, right: Any) -> Any:
    return left + right


def cheap_add(left: Any, right: Any) -> Any:
    """`+` in code run in the calling process: lists and tuples share their items (a few lines of `x = x + x`
    make a structure that takes hours to compare or print), and text past CHEAP_SEQUENCE is not cheap."""
    if isinstance(left, (list, tuple)) or isinstance(right, (list, tuple)):
        raise NeedsIsolation
    if isinstance(left, (str, bytes)) and isinstance(right, (str, bytes)) and len(left) + len(right) > CHEAP_SEQUENCE:
        raise NeedsIsolation
    return left + right


def cheap_mul(left: Any, right: Any) -> Any:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, (list, tuple)) and isinstance(times, int):
            raise NeedsIsolation
        if isinstance(seq, (str, bytes)) and isinstance(times, int) and len(seq) * times > CHEAP_SEQUENCE:
            raise NeedsIsolation
    return guarded_mul(left, right)


GUARDS = {ast.Pow: "_pow_", ast.Mult: "_mul_", ast.LShift: "_lshift_", ast.Add: "_add_"}
GLOBALS = {"_pow_": guarded_pow, "_mul_": guarded_mul, "_lshift_": guarded_lshift, "_add_": plain_add}
CHEAP_GLOBALS = {**GLOBALS, "_mul_": cheap_mul, "_add_": cheap_add}
_FOLD: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Pow: guarded_pow, ast.Mult: guarded_mul, ast.LShift: guarded_lshift,
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b}


class _NotConstant(Exception):
    pass


def _fold(node: ast.AST) -> Any:
    """The value of a constant expression, computed under the guards; _NotConstant if it reads anything."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bytes)):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_fold(e) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_fold(node.operand)
    if isinstance(node, ast.BinOp) and type(node.op) in _FOLD:
        try:
            return _FOLD[type(node.op)](_fold(node.left), _fold(node.right))
        except (TypeError, ValueError, OverflowError, ZeroDivisionError):
            raise _NotConstant from None
    raise _NotConstant


def constant_bomb(tree: ast.AST) -> str | None:
    """Deploy-time refusal: a constant `**`, `*` or `<<` whose result is past the limits (`10 ** 5000`)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) in GUARDS:
            try:
                _fold(node)
            except LimitExceeded as exc:
                return f"line {getattr(node, 'lineno', '?')}: {exc}"
            except _NotConstant:
                continue
    return None


class LimitingTransformer(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus: `a ** b`, `a * b`, `a << b` and `a + b` call the guards."""

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        guard = GUARDS.get(type(node.op))
        if guard is None:
            return node
        func = ast.copy_location(ast.Name(id=guard, ctx=ast.Load()), node)
        call = ast.Call(func=func, args=[node.left, node.right], keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))


def apply_process_limits() -> None:
    """Caps this process's address space (ITSMFLOW_MEMORY_LIMIT_MB): a memory bomb in a script then fails as
    that script's MemoryError instead of taking the machine's memory."""
    if MEMORY_LIMIT_MB > 0:
        limit = MEMORY_LIMIT_MB * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard if hard == resource.RLIM_INFINITY else min(limit, hard)))
