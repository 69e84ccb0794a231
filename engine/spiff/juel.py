"""A safe subset of JUEL (the `${...}` expression language of Camunda 7), parsed and evaluated here, never by
Python's eval: variables, dotted property access on mappings, string/number/boolean/null literals, comparisons
(== != < > <= >= and eq ne lt gt le ge), && || ! and and or not, `empty`, and parentheses.

Why hand-written: no maintained Python package implements JUEL; the subset is small and a parse error must
name its column. Anything outside it (method calls, beans, arithmetic, functions) is refused when parsed, so a
diagram using it is refused at deploy with the expression named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


class JuelError(ValueError):
    """An expression outside the subset (at parse time) or one that cannot be evaluated on the data."""


SUBSET = ("variables, dotted names, string/number/true/false/null literals, == != < > <= >= (eq ne lt gt le ge), "
          "&& || ! (and or not), empty and parentheses")

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+\.\d*|\.\d+|\d+)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!().\[\]])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<bad>.)
""", re.VERBOSE)
_WORD_OPS = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=", "and": "&&", "or": "||",
             "not": "!"}
_LITERALS = {"true": True, "false": False, "null": None}
_RESERVED = {"div", "mod", "instanceof", "function"}


def is_juel(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith(("${", "#{")) and stripped.endswith("}")


@dataclass(frozen=True)
class Tok:
    kind: str
    value: str
    col: int


def _tokens(body: str, offset: int) -> list[Tok]:
    out = []
    for m in _TOKEN.finditer(body):
        kind, value = m.lastgroup or "bad", m.group()
        col = m.start() + offset
        if kind == "ws":
            continue
        if kind == "bad":
            raise JuelError(f"{value!r} at column {col} is not in the supported JUEL subset ({SUBSET})")
        if kind == "name" and value in _WORD_OPS:
            kind, value = "op", _WORD_OPS[value]
        elif kind == "name" and value in _RESERVED:
            raise JuelError(f"{value!r} at column {col} is not in the supported JUEL subset ({SUBSET})")
        out.append(Tok(kind, value, col))
    return out


Node = tuple[Any, ...]


class _Parser:
    def __init__(self, tokens: list[Tok], end_col: int) -> None:
        self.toks, self.i, self.end_col = tokens, 0, end_col

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, *values: str) -> Tok | None:
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.value in values:
            self.i += 1
            return tok
        return None

    def fail(self, what: str) -> JuelError:
        tok = self.peek()
        where = f"{tok.value!r} at column {tok.col}" if tok else f"the end (column {self.end_col})"
        return JuelError(f"expected {what} but found {where}; the supported JUEL subset is {SUBSET}")

    def parse(self) -> Node:
        node = self.or_()
        if self.peek() is not None:
            tok = self.peek()
            assert tok is not None
            if tok.value == "(":
                raise JuelError(f"method or function calls (column {tok.col}) are not supported; the supported "
                                f"JUEL subset is {SUBSET}")
            raise self.fail("an operator")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.take("||"):
            node = ("or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.eq()
        while self.take("&&"):
            node = ("and", node, self.eq())
        return node

    def eq(self) -> Node:
        node = self.rel()
        while (tok := self.take("==", "!=")) is not None:
            node = ("cmp", tok.value, node, self.rel())
        return node

    def rel(self) -> Node:
        node = self.unary()
        while (tok := self.take("<", ">", "<=", ">=")) is not None:
            node = ("cmp", tok.value, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.take("!"):
            return ("not", self.unary())
        tok = self.peek()
        if tok is not None and tok.kind == "name" and tok.value == "empty":
            self.i += 1
            return ("empty", self.unary())
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            if self.take("."):
                tok = self.peek()
                if tok is None or tok.kind != "name":
                    raise self.fail("a property name after '.'")
                self.i += 1
                node = ("get", node, ("lit", tok.value))
            elif self.take("["):
                key = self.or_()
                if not self.take("]"):
                    raise self.fail("']'")
                node = ("get", node, key)
            elif (tok := self.peek()) is not None and tok.value == "(":
                raise JuelError(f"method or function calls (column {tok.col}) are not supported; the supported "
                                f"JUEL subset is {SUBSET}")
            else:
                return node

    def primary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.fail("a value")
        if self.take("("):
            node = self.or_()
            if not self.take(")"):
                raise self.fail("')'")
            return node
        self.i += 1
        if tok.kind == "num":
            return ("lit", float(tok.value) if "." in tok.value else int(tok.value))
        if tok.kind == "str":
            return ("lit", re.sub(r"\\(.)", r"\1", tok.value[1:-1]))
        if tok.kind == "name":
            if tok.value in _LITERALS:
                return ("lit", _LITERALS[tok.value])
            return ("var", tok.value)
        self.i -= 1
        raise self.fail("a value")


@lru_cache(maxsize=2048)
def parse(text: str) -> Node:
    """Parses `${...}`; raises JuelError naming the column of what is outside the subset."""
    stripped = text.strip()
    if not is_juel(stripped):
        raise JuelError("a JUEL expression is written ${...}")
    body = stripped[2:-1]
    if "${" in body or "#{" in body:
        raise JuelError("text mixing several ${...} parts is not supported: write one expression")
    if not body.strip():
        raise JuelError("the expression ${} is empty")
    return _Parser(_tokens(body, 3), len(stripped)).parse()


def evaluate(text: str, data: dict[str, Any]) -> Any:
    return _eval(parse(text), data)


def _eval(node: Node, data: dict[str, Any]) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "var":
        if node[1] not in data:
            raise JuelError(f"unknown variable {node[1]!r}")
        return data[node[1]]
    if kind == "get":
        base, key = _eval(node[1], data), _eval(node[2], data)
        if isinstance(base, dict) and key in base:
            return base[key]
        if isinstance(base, list) and isinstance(key, int) and not isinstance(key, bool) and -len(base) <= key < len(
                base):
            return base[key]
        if base is None:
            return None
        raise JuelError(f"no property {key!r} on a value of type {type(base).__name__}")
    if kind == "not":
        return not _truth(_eval(node[1], data))
    if kind == "empty":
        value = _eval(node[1], data)
        return value is None or (isinstance(value, (str, list, dict)) and len(value) == 0)
    if kind == "and":
        return _truth(_eval(node[1], data)) and _truth(_eval(node[2], data))
    if kind == "or":
        return _truth(_eval(node[1], data)) or _truth(_eval(node[2], data))
    return _compare(node[1], _eval(node[2], data), _eval(node[3], data))


def _truth(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise JuelError(f"{value!r} is not a boolean")


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return value
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    # JUEL coerces a text compared with a number to a number, as Camunda does.
    if isinstance(left, (int, float)) != isinstance(right, (int, float)) and None not in (left, right):
        left, right = _number(left), _number(right)
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        return bool({"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op])
    except TypeError:
        raise JuelError(f"cannot compare {left!r} {op} {right!r}") from None


def variables(text: str) -> tuple[str, ...]:
    """The variable names an expression reads (for the audit trail of a gateway's choice); () if it does not
    parse."""
    try:
        tree = parse(text)
    except JuelError:
        return ()
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, tuple):
            if node and node[0] == "var":
                found.add(node[1])
            for part in node[1:]:
                walk(part)

    walk(tree)
    return tuple(sorted(found))
