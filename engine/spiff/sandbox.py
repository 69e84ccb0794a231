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

from engine.spiff import bounded, isolation, juel, limits

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


def _inplace(add: Any, mul: Any) -> Any:
    ops = {"+=": add, "-=": lambda a, b: a - b, "*=": mul, "/=": lambda a, b: a / b, "//=": lambda a, b: a // b,
           "%=": lambda a, b: a % b}

    def inplacevar(op: str, x: Any, y: Any) -> Any:
        if op not in ops:
            raise ScriptRejected(f"operator {op} is not allowed")
        return ops[op](x, y)
    return inplacevar


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
    "_inplacevar_": _inplace(limits.plain_add, limits.guarded_mul),
    **limits.GLOBALS,
    "math": math,
    "date": date,
    "datetime": datetime,
    "timedelta": timedelta,
    "timezone": timezone,
}
_HIDDEN = set(SAFE_GLOBALS)
# Code run in the calling process (cheap by its shape): the same, with the guards that hand it to a script
# process when an operation could make it costly.
CHEAP_GLOBALS: dict[str, Any] = {**SAFE_GLOBALS, **limits.CHEAP_GLOBALS,
                                 "_inplacevar_": _inplace(limits.cheap_add, limits.cheap_mul)}


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
        return eval(code, scope)  # code was compiled by RestrictedPython above
    except (Exception, limits.NeedsIsolation):
        raise
    except BaseException as exc:  # noqa: BLE001 - the script's exits are its errors (below)
        # SystemExit, KeyboardInterrupt, GeneratorExit raised by a diagram would otherwise end the process
        # running it (a worker exiting 0 on every restart): they are the script's error, nothing more.
        raise ScriptRejected(f"script raised {type(exc).__name__}, which diagrams may not raise") from None
    finally:
        sys.settrace(previous)


def check_storable(context: dict[str, Any]) -> None:
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


def run_expression(expression: str, context: dict[str, Any], external_context: dict | None,
                   cheap: bool = False) -> Any:
    scope = dict(CHEAP_GLOBALS if cheap else SAFE_GLOBALS)
    scope.update(external_context or {})
    scope.update(context)
    return _run(compile_expression(expression), scope)


def run_script(script: str, context: dict[str, Any], external_context: dict | None,
               cheap: bool = False) -> tuple[dict[str, Any], list[str]]:
    """Runs a script on a copy of its data: what it set (checked storable) and the names it deleted."""
    scope = dict(CHEAP_GLOBALS if cheap else SAFE_GLOBALS)
    scope.update(external_context or {})
    scope.update(context)
    _run(compile_script(script), scope)
    results = {key: value for key, value in scope.items()
               if not (key in _HIDDEN or key.startswith("_") or callable(value) or key in (external_context or {}))}
    check_storable(results)  # before the task's data is touched: a refused result leaves it as it was
    return results, [key for key in context if key not in scope]


@lru_cache(maxsize=4096)
def is_cheap(source: str, mode: str) -> bool:
    """Cheap by its shape (engine/spiff/bounded.py): runs here. Code that does not parse is "cheap" too: compiling
    it here gives its error."""
    try:
        return bounded.is_cheap(ast.parse(source, mode=mode))
    except SyntaxError:
        return True


def _isolated(request: tuple[Any, ...]) -> Any:
    """Runs code that is not cheap in a script process under the wall-clock limit; its failures come back as the
    errors an in-process run would raise (ScriptRejected for the sandbox's refusals and for the limits)."""
    try:
        return isolation.run(request)
    except isolation.ScriptTimeout:
        raise ScriptRejected(f"the script ran past {limits.SCRIPT_TIMEOUT_MS} ms and was stopped "
                             "(ITSMFLOW_SCRIPT_TIMEOUT_MS)") from None
    except isolation.ScriptProcessFailed as exc:
        raise ScriptRejected(str(exc)) from None
    except isolation.RemoteError as exc:
        same = None if exc.rejected else exc.as_builtin()
        if same is not None:
            raise same from None
        message = str(exc) if exc.rejected else f"{exc.type_name}: {exc}"
        raise ScriptRejected(message) from None


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
        if limits.SCRIPT_TIMEOUT_MS <= 0:
            return run_expression(expression, context, external_context)
        if is_cheap(expression, "eval"):
            try:
                return run_expression(expression, context, external_context, cheap=True)
            except limits.NeedsIsolation:
                pass  # nothing was changed: run it again where the timeout can stop it
        return _isolated(("expression", expression, context, external_context))

    def execute(self, script: str, context: dict[str, Any], external_context: dict | None = None) -> bool:
        if limits.SCRIPT_TIMEOUT_MS <= 0:
            results, deleted = run_script(script, context, external_context)
        else:
            results, deleted = self._cheap_or_isolated(script, context, external_context)
        context.update(results)
        for key in deleted:
            del context[key]  # the script deleted it
        return True

    @staticmethod
    def _cheap_or_isolated(script: str, context: dict[str, Any],
                           external_context: dict | None) -> tuple[dict[str, Any], list[str]]:
        if is_cheap(script, "exec"):
            try:
                return run_script(script, context, external_context, cheap=True)
            except limits.NeedsIsolation:
                pass  # it ran on a copy of the data: run it again where the timeout can stop it
        return _isolated(("script", script, context, external_context))

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ScriptRejected("service tasks are not supported by this host")
