"""Recursive-descent compiler for the FEEL subset used in decision tables.

Grammar (our subset; anything else is rejected with a message naming the construct)::

    unary_tests  := "" | "-" | "not" "(" positive_list ")" | positive_list
    positive_list:= positive ("," positive)*
    positive     := ("<" | "<=" | ">" | ">=" | "=" | "!=") additive
                  | ("[" | "(" | "]") additive ".." additive ("]" | ")" | "[")
                  | additive                                   # equality with the input value
    expression   := conjunction ("or" conjunction)*
    conjunction  := comparison ("and" comparison)*
    comparison   := additive (("=" | "!=" | "<" | "<=" | ">" | ">=") additive)?
    additive     := multiplicative (("+" | "-") multiplicative)*
    multiplicative := negation (("*" | "/") negation)*
    negation     := "-" negation | primary
    primary      := number | string | "true" | "false" | "null" | name ("." name)*
                  | ("date" | "date and time" | "duration" | "not") "(" expression ")" | "(" expression ")"

Cells are compiled once at deploy time into closures (see expr.py, predicates.py); nothing is re-parsed later.
"""

from __future__ import annotations

from typing import Any

from . import ops
from .expr import Expr, binary, call, const, path, unary
from .lexer import FeelError, Token, tokenize
from .predicates import WILDCARD, UnaryTest, build_any, build_compare, build_equal, build_not, build_range

_UNSUPPORTED_WORDS = {
    "if": "if-then-else expressions are not supported",
    "then": "if-then-else expressions are not supported",
    "else": "if-then-else expressions are not supported",
    "for": "for loops are not supported",
    "return": "for loops are not supported",
    "some": "quantified expressions (some/every) are not supported",
    "every": "quantified expressions (some/every) are not supported",
    "satisfies": "quantified expressions (some/every) are not supported",
    "instance": "'instance of' is not supported",
    "of": "'instance of' is not supported",
    "function": "function definitions are not supported",
    "between": "'between' is not supported; use a range like [1..5]",
    "in": "'in' is not supported; use a list or range as the input entry",
}
_KEYWORDS = {"true", "false", "null", "and", "or", "not"} | set(_UNSUPPORTED_WORDS)
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
# Left-nested closures recurse once per operator at evaluation time; keep far below the interpreter's limit.
_MAX_OPERATORS = 200
_MAX_NESTING = 50


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.operators = 0
        self.nesting = 0

    # ------------------------------------------------------------------ token helpers

    def peek(self, k: int = 0) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def at_op(self, *values: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == "op" and tok.value in values

    def at_word(self, word: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == "name" and tok.value == word

    def expect_op(self, value: str) -> None:
        if not self.at_op(value):
            raise FeelError(f"expected '{value}' but found {_describe(self.peek())}")
        self.advance()

    def expect_end(self, unary_tests: bool = False) -> None:
        tok = self.peek()
        if tok.kind == "eof":
            return
        if tok.kind == "name" and tok.value in _UNSUPPORTED_WORDS:
            raise FeelError(_UNSUPPORTED_WORDS[tok.value])
        hint = ""
        if unary_tests and (tok.value in _COMPARISONS or tok.value in ("and", "or")):
            hint = " (an input entry is a unary test such as \"high\", < 5 or [1..5], not a full expression)"
        raise FeelError(f"unexpected {_describe(tok)}{hint}")

    def count_operator(self) -> None:
        self.operators += 1
        if self.operators > _MAX_OPERATORS:
            raise FeelError(f"expression is too long (more than {_MAX_OPERATORS} operators)")

    def enter(self) -> None:
        self.nesting += 1
        if self.nesting > _MAX_NESTING:
            raise FeelError(f"nested too deeply (more than {_MAX_NESTING} levels of parentheses)")

    # ------------------------------------------------------------------ expressions

    def expression(self) -> Expr:
        left = self.conjunction()
        while self.at_word("or"):
            self.advance()
            self.count_operator()
            left = binary("or", left, self.conjunction())
        return left

    def conjunction(self) -> Expr:
        left = self.comparison()
        while self.at_word("and"):
            self.advance()
            self.count_operator()
            left = binary("and", left, self.comparison())
        return left

    def comparison(self) -> Expr:
        left = self.additive()
        if self.at_op(*_COMPARISONS):
            op = self.advance().value
            self.count_operator()
            left = binary(op, left, self.additive())
        return left

    def additive(self) -> Expr:
        left = self.multiplicative()
        while self.at_op("+", "-"):
            op = self.advance().value
            self.count_operator()
            left = binary(op, left, self.multiplicative())
        return left

    def multiplicative(self) -> Expr:
        left = self.negation()
        while self.at_op("*", "/", "**"):
            op = self.advance().value
            if op == "**":
                raise FeelError("exponentiation (**) is not supported")
            self.count_operator()
            left = binary(op, left, self.negation())
        return left

    def negation(self) -> Expr:
        if self.at_op("-"):
            self.advance()
            self.count_operator()
            return unary(ops.negate, self.negation())
        return self.primary()

    def primary(self) -> Expr:
        tok = self.advance()
        if tok.kind == "num":
            return const(_number(tok.value))
        if tok.kind == "str":
            return const(tok.value)
        if tok.kind == "name":
            return self.named(tok)
        if tok.kind == "op" and tok.value == "(":
            self.enter()
            inner = self.expression()
            self.expect_op(")")
            self.nesting -= 1
            return inner
        if tok.kind == "eof":
            raise FeelError("expression is incomplete")
        if tok.kind == "op" and tok.value in ("[", "{"):
            raise FeelError("lists and contexts are not supported in expressions")
        raise FeelError(f"unexpected {_describe(tok)}")

    def named(self, tok: Token) -> Expr:
        word = tok.value
        if word == "true":
            return const(True)
        if word == "false":
            return const(False)
        if word == "null":
            return const(None)
        if word in _UNSUPPORTED_WORDS:
            raise FeelError(_UNSUPPORTED_WORDS[word])
        if self.at_op("("):
            self.advance()
            self.enter()
            args: list[Expr] = []
            if not self.at_op(")"):
                args.append(self.expression())
                while self.at_op(","):
                    self.advance()
                    args.append(self.expression())
            self.expect_op(")")
            self.nesting -= 1
            if self.at_op("."):
                raise FeelError("property access on a function result is not supported")
            return call(word, args)
        if word in _KEYWORDS:
            raise FeelError(f"unexpected '{word}'")
        parts = [word]
        while self.at_op("."):
            self.advance()
            part = self.advance()
            if part.kind != "name" or part.value in _KEYWORDS:
                raise FeelError(f"expected a name after '.' but found {_describe(part)}")
            parts.append(part.value)
        return path(parts)

    # ------------------------------------------------------------------ unary tests

    def unary_tests(self) -> UnaryTest:
        if self.at_word("not") and self.peek(1).kind == "op" and self.peek(1).value == "(":
            self.i += 2
            inner = self.positive_list()
            self.expect_op(")")
            self.expect_end(unary_tests=True)
            return build_not(inner)
        tests = self.positive_list()
        self.expect_end(unary_tests=True)
        return tests

    def positive_list(self) -> UnaryTest:
        tests = [self.positive()]
        while self.at_op(","):
            self.advance()
            tests.append(self.positive())
        return build_any(tests)

    def positive(self) -> UnaryTest:
        tok = self.peek()
        if tok.kind == "op":
            if tok.value in _COMPARISONS:
                self.advance()
                return build_compare(tok.value, self.additive())
            if tok.value in ("[", "]"):
                self.advance()
                return self.interval_rest(self.additive(), low_closed=tok.value == "[")
            if tok.value == "(":
                self.advance()
                first = self.additive()
                if self.at_op(".."):
                    return self.interval_rest(first, low_closed=False)
                self.expect_op(")")
                return build_equal(first)
        if tok.kind == "eof":
            raise FeelError("a test is missing (empty item in a list?)")
        if self.at_word("not") and self.peek(1).value == "(":
            raise FeelError("not(...) must enclose the whole input entry")
        return build_equal(self.additive())

    def interval_rest(self, low: Expr, low_closed: bool) -> UnaryTest:
        self.expect_op("..")
        high = self.additive()
        close = self.advance()
        if close.kind != "op" or close.value not in ("]", ")", "["):
            raise FeelError(f"a range must end with ']' or ')' but found {_describe(close)}")
        return build_range(low, low_closed, high, close.value == "]")


def _describe(tok: Token) -> str:
    if tok.kind == "eof":
        return "end of text"
    if tok.kind == "str":
        return f'string "{tok.value}"'
    return f"'{tok.value}'"


def _number(text: str) -> Any:
    try:
        if "." in text:
            value = float(text)
            if value in (float("inf"), float("-inf")):
                raise FeelError(f"number {text[:20]}... is out of range")
            return value
        return int(text)
    except ValueError as exc:  # Python refuses int() of more than 4300 digits
        raise FeelError("number is too long") from exc


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."


def _compile(source: str, what: str, action: Any) -> Any:
    try:
        return action(_Parser(source))
    except FeelError as exc:
        raise FeelError(f'unsupported FEEL "{_shorten(source)}" in {what}: {exc}') from None
    except RecursionError:
        raise FeelError(f'unsupported FEEL "{_shorten(source)}" in {what}: nested too deeply') from None


def _whole_unary_tests(parser: _Parser) -> UnaryTest:
    return parser.unary_tests()


def _whole_expression(parser: _Parser) -> Expr:
    result = parser.expression()
    parser.expect_end()
    return result


def compile_unary_tests(text: str | None) -> UnaryTest:
    """Compile an input entry; empty and "-" match anything."""
    source = (text or "").strip()
    if source in ("", "-"):
        return WILDCARD
    return _compile(source, "input entry", _whole_unary_tests)


def compile_expression(text: str | None, what: str = "expression") -> Expr:
    """Compile an input expression or output entry. Empty text is an error (callers decide)."""
    source = (text or "").strip()
    if not source:
        raise FeelError(f"{what} is empty")
    return _compile(source, what, _whole_expression)


def _value_list(parser: _Parser) -> tuple[Any, ...]:
    values = []
    while True:
        item = parser.additive()
        if not item.is_const:
            raise FeelError("allowed values must be literals")
        values.append(item.value)
        if not parser.at_op(","):
            break
        parser.advance()
    parser.expect_end()
    return tuple(values)


def compile_value_list(text: str | None) -> tuple[Any, ...]:
    """Compile an outputValues/inputValues list such as ``"P1","P2","P3"`` into its literal values."""
    source = (text or "").strip()
    if not source:
        return ()
    return _compile(source, "allowed values", _value_list)
