"""JSON in requests: strict (no NaN/Infinity, which are not JSON), bounded nesting, no lone surrogates (text
that cannot be stored). Installed as the app's JSON provider, so every request.get_json() gets it: a bad body is
a 400 naming the problem, never a 500 further down."""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 64


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"the JSON is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, str):
            _text(item)
        elif isinstance(item, dict):
            for key, inner in item.items():
                _text(key)
                stack.append((inner, depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, depth + 1) for inner in item)


def _text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the JSON holds a lone surrogate (\\ud800-\\udfff), which is not text") from None


class StrictJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = json.loads(s, parse_constant=_refuse_constant, **kwargs)
        except RecursionError:
            raise ValueError(f"the JSON is nested more than {MAX_DEPTH} levels deep") from None
        _check(value)
        return value
