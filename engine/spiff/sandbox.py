"""Scripts, conditions and expressions from diagrams run here: RestrictedPython-compiled, with a line budget.

Why: SpiffWorkflow's default environment is plain eval/exec with the task data as globals, so a diagram
could run anything as the server's user. Compiled code is cached per source text.
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import sys
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from types import CodeType, FrameType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, limited_builtins, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, safer_getattr
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.spiff import juel, limits

SCRIPT_FILENAME = "<diagram>"
LINE_BUDGET = 200_000

# Timer definitions as the Camunda Modeler writes them are bare ISO 8601 text, not Python.
ISO_TIMER = re.compile(
    r"^(R\d*/)?(P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
    r"|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)"
    r"(/P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?)?$"
)


class ScriptRejected(Exception):
    """The script uses something the sandbox forbids, or ran past its budget."""


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    ops = {
        "+=": lambda a, b: a + b, "-=": lambda a, b: a - b, "*=": limits.guarded_mul,
        "/=": lambda a, b: a / b, "//=": lambda a, b: a // b, "%=": lambda a, b: a % b,
    }
    if op not in ops:
        raise ScriptRejected(f"operator {op} is not allowed")
    return ops[op](x, y)


def _builtins() -> dict[str, Any]:
    allowed = dict(safe_builtins)
    allowed.update(limited_builtins)
    for name in ("sum", "min", "max", "any", "all", "enumerate", "sorted", "list", "dict", "set", "reversed",
                 "map", "filter"):
        allowed[name] = __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    allowed["pow"] = limits.guarded_pow
    return allowed


SAFE_GLOBALS: dict[str, Any] = {
    "__builtins__": _builtins(),
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    **limits.GLOBALS,
    "math": math,
    "date": date,
    "datetime": datetime,
    "timedelta": timedelta,
    "timezone": timezone,
}
_HIDDEN = set(SAFE_GLOBALS)


def _refuse_constant_bombs(source: str, mode: str) -> None:
    try:
        bomb = limits.constant_bomb(ast.parse(source, mode=mode))
    except SyntaxError:
        return  # RestrictedPython reports it
    if bomb is not None:
        raise ScriptRejected(bomb)


@lru_cache(maxsize=4096)
def compile_expression(expression: str) -> CodeType:
    _refuse_constant_bombs(expression, "eval")
    result = compile_restricted_eval(expression, SCRIPT_FILENAME, policy=limits.LimitingTransformer)
    if result.errors or result.code is None:
        raise ScriptRejected("; ".join(result.errors) or "the expression did not compile")
    return result.code


def check_expression(expression: str) -> None:
    """Deploy-time check of a condition or expression: JUEL `${...}` must be in the subset, else Python that
    the sandbox compiles."""
    if juel.is_juel(expression):
        try:
            juel.parse(expression)
        except juel.JuelError as exc:
            raise ScriptRejected(str(exc)) from None
        return
    compile_expression(expression)


@lru_cache(maxsize=1024)
def compile_script(script: str) -> CodeType:
    try:
        tree = ast.parse(script)
    except SyntaxError as exc:
        raise ScriptRejected(f"line {exc.lineno}: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            raise ScriptRejected(f"line {node.lineno}: imports are not allowed in diagram scripts")
    _refuse_constant_bombs(script, "exec")
    result = compile_restricted_exec(script, SCRIPT_FILENAME, policy=limits.LimitingTransformer)
    if result.errors or result.code is None:
        raise ScriptRejected("; ".join(result.errors) or "the script did not compile")
    return result.code


class _Budget:
    """Counts executed lines of diagram code; a runaway loop stops with an error instead of hanging a worker."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def tracer(self, frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != SCRIPT_FILENAME:
            return None
        return self.local

    def local(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.left -= 1
            if self.left < 0:
                raise ScriptRejected(f"script ran more than {LINE_BUDGET} lines (endless loop?)")
        return self.local


def _run(code: CodeType, scope: dict[str, Any]) -> Any:
    budget = _Budget(LINE_BUDGET)
    previous = sys.gettrace()
    sys.settrace(budget.tracer)
    try:
        return eval(code, scope)  # noqa: S307 - code was compiled by RestrictedPython above
    except Exception:
        raise
    except BaseException as exc:
        # SystemExit, KeyboardInterrupt, GeneratorExit raised by a diagram would otherwise end the process
        # running it (a worker exiting 0 on every restart): they are the script's error, nothing more.
        raise ScriptRejected(f"script raised {type(exc).__name__}, which diagrams may not raise") from None
    finally:
        sys.settrace(previous)


def _storable(context: dict[str, Any]) -> None:
    """A script's results are saved as JSON after the step: refuse here, as the script's error, what cannot be
    (an integer past Python's 4300-digit text limit, endless nesting)."""
    try:
        text = json.dumps(context, default=str, allow_nan=False)
    except (ValueError, RecursionError, TypeError) as exc:
        raise ScriptRejected(f"the script's result cannot be saved: {exc}") from None
    if len(text) > limits.MAX_DATA_BYTES:
        raise ScriptRejected(f"the script's result is {len(text)} bytes as JSON; a step may save at most "
                             f"{limits.MAX_DATA_BYTES} (ITSMFLOW_MAX_DATA_BYTES)")


_LOCAL_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def timer_zone() -> ZoneInfo:
    """ITSMFLOW_TIMER_TIMEZONE (an IANA name, default UTC): the zone of timer dates written without an offset."""
    name = os.environ.get("ITSMFLOW_TIMER_TIMEZONE", "UTC").strip() or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def literal_timer(expression: str) -> str | None:
    """Returns the ISO text of an unquoted Camunda timer definition, else None. A date and time without an
    offset is read in the configured timer zone and returned with its offset."""
    text = expression.strip()
    if not ISO_TIMER.match(text):
        return None
    if _LOCAL_DATE_TIME.match(text):
        return datetime.fromisoformat(text).replace(tzinfo=timer_zone()).isoformat()
    return text


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict | None = None) -> Any:
        iso = literal_timer(expression)
        if iso is not None:
            return iso
        if juel.is_juel(expression):  # Camunda's ${...}: our JUEL subset, never Python
            try:
                return juel.evaluate(expression, {**(external_context or {}), **context})
            except juel.JuelError as exc:
                raise ScriptRejected(f"{expression.strip()}: {exc}") from None
        scope = dict(SAFE_GLOBALS)
        scope.update(external_context or {})
        scope.update(context)
        return _run(compile_expression(expression), scope)

    def execute(self, script: str, context: dict[str, Any], external_context: dict | None = None) -> bool:
        scope = dict(SAFE_GLOBALS)
        scope.update(external_context or {})
        scope.update(context)
        _run(compile_script(script), scope)
        results = {key: value for key, value in scope.items()
                   if not (key in _HIDDEN or key.startswith("_") or callable(value) or key in (external_context or {}))}
        _storable(results)  # before the task's data is touched: a refused result leaves it as it was
        context.update(results)
        for key in [k for k in context if k not in scope]:
            del context[key]  # the script deleted it
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ScriptRejected("service tasks are not supported by this host")
