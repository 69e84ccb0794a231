"""Evaluation of a decision table (and the chain of decisions it requires) against caller data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import EvaluationError
from .evidence import Evaluation
from .hitpolicy import select

if TYPE_CHECKING:
    from .model import Decision, DmnModel, Rule


def evaluate_table(
    decision: Decision, ctx: Mapping[str, Any], version: int | None, required: list[Evaluation]
) -> Evaluation:
    """Evaluate one table against an already assembled context (data plus required decisions' outputs)."""
    rule: Rule | None = None
    try:
        values = [read(ctx) for read in decision.readers]
        # FIRST may stop at the first hit; every other policy must see all hits (UNIQUE to detect overlaps).
        first_only = decision.hit_policy == "FIRST"
        matched = []
        for rule, tests in decision.matchers:
            for position, test in tests:
                if not test(values[position], ctx):
                    break
            else:
                matched.append(rule)
                if first_only:
                    break
        rule = None
        selected, outputs = select(decision, matched, ctx)
    except EvaluationError:
        raise
    except (RecursionError, TypeError, ValueError, ArithmeticError, AttributeError, KeyError) as exc:
        # Compiled cells are written not to raise; this only guards the promise that callers see RulesErrors.
        raise EvaluationError(
            decision.id, [rule.id] if rule else [], f"evaluation failed: {type(exc).__name__}: {exc}"
        ) from exc

    # Positional on purpose: this constructor runs once per evaluation and keywords cost measurably.
    return Evaluation(
        decision.id,
        decision.name,
        version,
        dict(zip(decision.input_keys, values, strict=True)),
        [r.id for r in selected],
        outputs,
        [r.description for r in selected if r.description],
        required,
        decision.policy_label,
        {r.id: r.conditions for r in selected},
    )


def evaluate_model(
    model: DmnModel, decision_id: str, data: Mapping[str, Any], version: int | None
) -> Evaluation:
    if not isinstance(data, Mapping):
        raise EvaluationError(decision_id, [], f"data must be a mapping, got {type(data).__name__}")
    if decision_id not in model.decisions:
        known = ", ".join(model.decisions) or "none"
        raise EvaluationError(decision_id, [], f"unknown decision (this model has: {known})")
    return _evaluate(model, decision_id, data, version, {})


def _evaluate(
    model: DmnModel,
    decision_id: str,
    data: Mapping[str, Any],
    version: int | None,
    done: dict[str, Evaluation],
) -> Evaluation:
    # ``done`` makes a decision required by two others (a diamond) evaluate once per call. Cycles are
    # rejected at parse time, so the recursion terminates.
    if decision_id in done:
        return done[decision_id]
    decision = model.decisions[decision_id]
    required = [_evaluate(model, rid, data, version, done) for rid in decision.required]
    ctx: Mapping[str, Any] = data
    if required:
        merged = dict(data)
        for sub in required:
            merged[sub.decision_id] = dict(sub.outputs)
        # Output names win over decision ids: a decision "urgency" with output "urgency" is usually modelled
        # so that the next table can read plain ``urgency``.
        for sub in required:
            merged.update(sub.outputs)
        ctx = merged
    result = evaluate_table(decision, ctx, version, required)
    done[decision_id] = result
    return result
