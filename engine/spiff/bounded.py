"""Which diagram code is cheap by its shape: straight-line code whose every operation costs at most a pass over
the data it reads. Such code runs in the calling process (the hot path: `priority == "P1"`, `approved = True`,
`{...}[kind]`, `rfc.get("title")`); anything else runs in a script process that a wall-clock timeout can kill
(engine/spiff/isolation.py).

Why a shape test and not a timer: a signal cannot stop one long C call (`math.factorial(10 ** 7)`, sorting a
huge list), measured in docs/security.md, and a round trip to another process costs ten times a short script.
The data a step reads is capped (ITSMFLOW_MAX_DATA_BYTES). What remains is code that makes big values from small
ones: loops, and values that share parts (`x = [d, d]` a few lines over prints as 2 ** lines copies of d). So the
shape allows no loop, no display with two references, no assignment into a container, and `+`/`*` that would
join lists or make long text stop the in-process run and send it to a script process (limits.NeedsIsolation).
"""

from __future__ import annotations

import ast

# Calls that return one of their arguments or a value no bigger than them, in one pass. Left out on purpose,
# among others: sorted and sum (n log n, quadratic on lists), round (`round(1, -10 ** 9)` computes a power),
# math.* (factorial, comb), str.join / ljust / center / zfill / format / replace (widths and repeats).
CHEAP_CALLS = frozenset({
    "len", "str", "int", "float", "bool", "abs", "isinstance", "min", "max", "any", "all", "list", "dict", "tuple",
    "set", "pow", "date", "datetime", "timedelta",
})
_KEYWORDS_ALLOWED = frozenset({"date", "datetime", "timedelta"})  # dict(a=x, b=x) would share x twice
CHEAP_METHODS = frozenset({
    "get", "keys", "values", "items", "copy", "lower", "upper", "strip", "lstrip", "rstrip", "startswith",
    "endswith", "isdigit", "isalpha", "split", "find", "count", "isoformat", "fromisoformat", "date", "time",
    "now", "today", "weekday", "isoweekday", "total_seconds", "timestamp", "astimezone",
})
_CHEAP_NODES = (
    ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.Delete, ast.Pass, ast.If,
    ast.Try, ast.ExceptHandler, ast.Raise, ast.Name, ast.Constant, ast.Attribute, ast.Subscript, ast.Slice,
    ast.Compare, ast.BoolOp, ast.UnaryOp, ast.BinOp, ast.IfExp, ast.Dict, ast.List, ast.Tuple, ast.Set,
    ast.Starred, ast.keyword, ast.JoinedStr, ast.FormattedValue, ast.Call,
    ast.expr_context, ast.boolop, ast.unaryop, ast.cmpop,
)
# `%` formats text with widths from data (`"%*d" % (10 ** 9, 1)`); `|` merges dicts (sharing values).
_CHEAP_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Pow, ast.LShift, ast.RShift)


def _constant(node: ast.AST | None) -> bool:
    if isinstance(node, ast.Constant) or node is None:
        return True
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(_constant(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(_constant(k) and _constant(v) for k, v in zip(node.keys, node.values, strict=True))
    return isinstance(node, ast.UnaryOp) and _constant(node.operand)


def _references(node: ast.AST) -> int:
    """How many parts of a display are not constant (each may be a reference to a shared value)."""
    if isinstance(node, ast.Dict):
        return sum(not _constant(part) for part in [*node.keys, *node.values])
    return sum(not _constant(e) for e in node.elts) if isinstance(node, (ast.List, ast.Tuple, ast.Set)) else 0


def _plain_target(node: ast.AST) -> bool:
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_plain_target(e) for e in node.elts)
    return isinstance(node, ast.Name)


def _cheap(node: ast.AST) -> bool:
    if isinstance(node, ast.operator):
        return isinstance(node, _CHEAP_OPERATORS)
    if not isinstance(node, _CHEAP_NODES):
        return False  # loops, comprehensions, lambdas, definitions, with, match, walrus...
    if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return _plain_target(node) if isinstance(getattr(node, "ctx", None), ast.Store) else _references(node) <= 1
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        return all(_plain_target(t) for t in targets)  # no `d["a"] = x`: that shares x too
    if isinstance(node, ast.ExceptHandler):
        return node.type is not None  # a bare except would also catch the hand-over to a script process
    if isinstance(node, ast.FormattedValue):
        return node.format_spec is None  # f"{x:{width}}" pads to any width
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id in CHEAP_CALLS and (not node.keywords or func.id in _KEYWORDS_ALLOWED)
        return isinstance(func, ast.Attribute) and func.attr in CHEAP_METHODS
    return True


def is_cheap(tree: ast.AST) -> bool:
    """True when every node of the code is in the cheap set above."""
    return all(_cheap(node) for node in ast.walk(tree))
