"""Deploy refusals a person can act on: each names the element and its line, in words, never a library's repr.

Why here: the engine's parser raises many exception types whose text holds lxml element reprs, raw XML bytes
or its own internals; what reaches the uploader is rewritten from the element the parser was reading.
"""

from __future__ import annotations

import re
from types import TracebackType
from typing import Any

from lxml import etree

Problem = dict[str, Any]

_ELEMENT_REPR = re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-fA-F]+>")
_ANY_REPR = re.compile(r"<[\w.]+ (?:object )?at 0x[0-9a-fA-F]+>")
_BYTES = re.compile(r"""b(['"]).*?(?<!\\)\1""", re.DOTALL)
_MAX_MESSAGE = 400


def clean(message: str) -> str:
    """Removes Python reprs and raw bytes from a library's message; keeps its first line."""
    text = _ELEMENT_REPR.sub(lambda m: f"a bpmn:{m.group(1)}", str(message))
    text = _ANY_REPR.sub("an object", text)
    text = _BYTES.sub("the element", text)
    text = text.strip().splitlines()[0] if text.strip() else "unknown problem"
    return text[:_MAX_MESSAGE]


def line_of(root: etree._Element | None, element_id: str | None) -> int | None:
    if root is None or not element_id:
        return None
    found = root.xpath("//*[@id=$id]", id=element_id)
    return found[0].sourceline if found else None


def with_lines(root: etree._Element | None, problems: list[Problem]) -> list[Problem]:
    """Every problem gets `line` (the element's line in the file, when it names one) and a clean message."""
    for problem in problems:
        problem["message"] = clean(problem.get("message", ""))
        if problem.get("line") is None:
            problem["line"] = line_of(root, problem.get("element_id"))
    return problems


def _node_in_traceback(tb: TracebackType | None) -> etree._Element | None:
    """The BPMN element the engine's parser was reading when it failed (its parsers keep it as self.node)."""
    node = None
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        candidate = getattr(owner, "node", None)
        if isinstance(candidate, etree._Element):
            node = candidate
        tb = tb.tb_next
    return node


def from_engine(exc: BaseException) -> Problem:
    """A problem for an exception the engine's parser raised while reading a diagram."""
    element_id = getattr(exc, "id", None) or None
    line = getattr(exc, "line_number", None) or None
    node = _node_in_traceback(exc.__traceback__)
    if node is not None:
        element_id = element_id or node.get("id")
        line = line or node.sourceline
    kind = etree.QName(node).localname if node is not None else "diagram"
    detail = clean(str(exc)) if str(exc) else type(exc).__name__
    if type(exc).__name__ in ("TypeError", "AttributeError", "KeyError", "IndexError", "NotImplementedError"):
        detail = f"this {kind} is not in a form the engine can run ({detail})"
    message = f"{kind} {element_id or ''}: {detail}".replace("  ", " ")
    return {"element_id": element_id, "line": line,
            "message": f"{message}. Check this element against docs/modelling.md (what the engine reads)"}
