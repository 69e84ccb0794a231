"""Tokenizer for the FEEL subset we compile (see feel.py for the grammar)."""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import NamedTuple

# FEEL names may contain spaces ("Applicant Age"). Which ones a file uses is known only from the file itself
# (its input data, decisions and outputs): parse.py sets them here while it compiles that file.
KNOWN_NAMES: ContextVar[frozenset[str]] = ContextVar("feel_known_names", default=frozenset())


class FeelError(Exception):
    """A cell is outside the supported FEEL subset or malformed; the message is for the modeller."""


class Token(NamedTuple):
    kind: str  # "num", "str", "name", "op", "eof"
    value: str
    pos: int


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<dt>date\s+and\s+time(?=\s*\())      # the one multi-word name we know; only as a function call
  | (?P<num>\d+(?:\.\d+)?|\.\d+)
  | (?P<str>")
  | (?P<name>[^\W\d]\w*)
  | (?P<op>\.\.|<=|>=|!=|\*\*|[<>=+\-*/()\[\],.])
    """,
    re.VERBOSE,
)

_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "'": "'", "/": "/"}


def _read_string(text: str, start: int) -> tuple[str, int]:
    """Read the string literal whose opening quote is at ``start``; return (value, index after its end)."""
    out: list[str] = []
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch == "\\":
            if i + 1 >= n:
                break
            esc = text[i + 1]
            if esc == "u":
                hex_digits = text[i + 2:i + 6]
                if len(hex_digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in hex_digits):
                    raise FeelError(f"bad \\u escape at position {i + 1}")
                out.append(chr(int(hex_digits, 16)))
                i += 6
                continue
            if esc not in _ESCAPES:
                raise FeelError(f"unknown escape \\{esc} at position {i + 1}")
            out.append(_ESCAPES[esc])
            i += 2
            continue
        out.append(ch)
        i += 1
    raise FeelError("unbalanced quotes: string is not closed")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            ch = text[pos]
            hint = ""
            if ch in "'\u2018\u2019\u201c\u201d":
                hint = " (FEEL strings use plain double quotes)"
            elif ch == "?":
                hint = " (the ? placeholder is not supported; write the test itself, e.g. > 5)"
            raise FeelError(f"unexpected character {ch!r} at position {pos + 1}{hint}")
        kind = m.lastgroup or ""
        if kind == "ws":
            pos = m.end()
            continue
        if kind == "str":
            value, pos = _read_string(text, pos)
            tokens.append(Token("str", value, m.start()))
            continue
        if kind == "dt":
            tokens.append(Token("name", "date and time", pos))
        else:
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("eof", "", n))
    known = KNOWN_NAMES.get()
    return _join_known_names(tokens, known) if known else tokens


def _join_known_names(tokens: list[Token], known: frozenset[str]) -> list[Token]:
    """Consecutive name tokens that spell a known multi-word name become one name token (longest first)."""
    longest = max((len(name.split()) for name in known), default=1)
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        joined = None
        if tokens[i].kind == "name":
            for size in range(min(longest, len(tokens) - i), 1, -1):
                words = tokens[i:i + size]
                if all(t.kind == "name" for t in words) and " ".join(t.value for t in words) in known:
                    joined = Token("name", " ".join(t.value for t in words), tokens[i].pos)
                    i += size
                    break
        if joined is None:
            out.append(tokens[i])
            i += 1
        else:
            out.append(joined)
    return out
