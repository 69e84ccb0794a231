"""Hit policies: from the rules whose input entries matched to the decision's result."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from .errors import EvaluationError
from .model import Decision, Rule
from .values import DATE, DATETIME, DURATION, NUMBER, STRING, as_utc, equal, feel_text, kind_of

HIT_POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER")
AGGREGATIONS = ("SUM", "COUNT", "MIN", "MAX")
SINGLE_RESULT = frozenset({"UNIQUE", "FIRST", "PRIORITY", "ANY"})
ORDERED_BY_OUTPUT = frozenset({"PRIORITY", "OUTPUT ORDER"})
_ORDERED_KINDS = (NUMBER, STRING, DATE, DATETIME, DURATION)

Context = Mapping[str, Any]
Selection = tuple[list[Rule], dict[str, Any]]


def normalize_hit_policy(raw: str | None) -> str:
    """'rule_order', 'Rule Order' and 'RULE ORDER' are one policy; missing means UNIQUE (the DMN default)."""
    if raw is None or not raw.strip():
        return "UNIQUE"
    return " ".join(raw.replace("_", " ").split()).upper()


def empty_outputs(decision: Decision) -> dict[str, Any]:
    if decision.hit_policy in SINGLE_RESULT:
        return dict.fromkeys(decision.output_names)
    if decision.aggregation is not None:
        return {name: (0 if decision.aggregation == "COUNT" else None) for name in decision.output_names}
    return {name: [] for name in decision.output_names}


def _row(rule: Rule, ctx: Context) -> list[Any]:
    return rule.output_values(ctx)


def _ids(rules: list[Rule]) -> list[str]:
    return [r.id for r in rules]


def _single(decision: Decision, rule: Rule, ctx: Context) -> dict[str, Any]:
    return dict(zip(decision.output_names, _row(rule, ctx), strict=True))


def _unique(decision: Decision, matched: list[Rule], ctx: Context) -> Selection:
    if len(matched) > 1:
        ids = _ids(matched)
        raise EvaluationError(
            decision.id, ids, f"UNIQUE hit policy violated: rules {', '.join(ids)} all matched"
        )
    return matched, _single(decision, matched[0], ctx)


def _first(decision: Decision, matched: list[Rule], ctx: Context) -> Selection:
    return matched[:1], _single(decision, matched[0], ctx)


def _any(decision: Decision, matched: list[Rule], ctx: Context) -> Selection:
    names = decision.output_names
    rows = [_row(rule, ctx) for rule in matched]
    first = rows[0]
    for rule, row in zip(matched[1:], rows[1:], strict=True):
        for name, a, b in zip(names, first, row, strict=True):
            if not equal(a, b):
                raise EvaluationError(
                    decision.id, _ids(matched),
                    f"ANY hit policy violated: rules {matched[0].id} and {rule.id} matched with different "
                    f"outputs ({name} = {feel_text(a)} vs {feel_text(b)})",
                )
    return matched, dict(zip(names, first, strict=True))


def _by_output_priority(
    decision: Decision, matched: list[Rule], ctx: Context
) -> list[tuple[Rule, list[Any]]]:
    rows = [(rule, _row(rule, ctx)) for rule in matched]
    ranked = [(pos, out) for pos, out in enumerate(decision.outputs) if out.allowed_values]
    # sorted() is stable, so rules with equal priority keep rule order.
    return sorted(rows, key=lambda item: tuple(out.rank(item[1][pos]) for pos, out in ranked))


def _priority(decision: Decision, matched: list[Rule], ctx: Context) -> Selection:
    rule, row = _by_output_priority(decision, matched, ctx)[0]
    return [rule], dict(zip(decision.output_names, row, strict=True))


def _lists(decision: Decision, rows: list[tuple[Rule, list[Any]]]) -> Selection:
    outputs = {name: [row[pos] for _, row in rows] for pos, name in enumerate(decision.output_names)}
    return [rule for rule, _ in rows], outputs


def _rule_order(decision: Decision, matched: list[Rule], ctx: Context) -> Selection:
    return _lists(decision, [(rule, _row(rule, ctx)) for rule in matched])


def _output_order(decision: Decision, matched: list[Rule], ctx: Context) -> Selection:
    return _lists(decision, _by_output_priority(decision, matched, ctx))


def _collect(decision: Decision, matched: list[Rule], ctx: Context) -> Selection:
    rows = [(rule, _row(rule, ctx)) for rule in matched]
    if decision.aggregation is None:
        return _lists(decision, rows)
    outputs = {
        name: _aggregate(decision, decision.aggregation, name, [row[pos] for _, row in rows], matched)
        for pos, name in enumerate(decision.output_names)
    }
    return matched, outputs


def _aggregate(decision: Decision, how: str, name: str, values: list[Any], matched: list[Rule]) -> Any:
    # Nulls are left out of every aggregation: a rule that yields no value contributes nothing.
    present = [v for v in values if v is not None]
    if how == "COUNT":
        return len(present)
    if not present:
        return None
    kinds = {kind_of(v) for v in present}
    kind = kinds.pop() if len(kinds) == 1 else None
    if how == "SUM":
        try:
            if kind == NUMBER:
                return sum(present)
            if kind == DURATION:
                return sum(present, timedelta())
        except TypeError:  # Decimal + float
            pass
        raise EvaluationError(
            decision.id, _ids(matched), f"COLLECT SUM needs numbers or durations for {name}, got "
            + ", ".join(feel_text(v) for v in present),
        )
    if kind not in _ORDERED_KINDS:
        raise EvaluationError(
            decision.id, _ids(matched), f"COLLECT {how} cannot order mixed values for {name}: "
            + ", ".join(feel_text(v) for v in present),
        )
    key = as_utc if kind == DATETIME else None
    try:
        return min(present, key=key) if how == "MIN" else max(present, key=key)
    except TypeError as exc:
        raise EvaluationError(
            decision.id, _ids(matched), f"COLLECT {how} cannot order values for {name}"
        ) from exc


_SELECTORS: dict[str, Callable[[Decision, list[Rule], Context], Selection]] = {
    "UNIQUE": _unique,
    "FIRST": _first,
    "PRIORITY": _priority,
    "ANY": _any,
    "COLLECT": _collect,
    "RULE ORDER": _rule_order,
    "OUTPUT ORDER": _output_order,
}


def select(decision: Decision, matched: list[Rule], ctx: Context) -> Selection:
    """Returns (rules in result order, outputs) for the decision's hit policy."""
    if not matched:
        return [], empty_outputs(decision)
    return _SELECTORS[decision.hit_policy](decision, matched, ctx)
