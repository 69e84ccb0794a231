"""The deployed form of a DMN file: decisions with their cells already compiled to closures."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .values import equal

if TYPE_CHECKING:
    from .evidence import Evaluation

Getter = Callable[[Mapping[str, Any]], Any]
Predicate = Callable[[Any, Mapping[str, Any]], bool]


@dataclass(eq=False)
class Input:
    id: str
    label: str | None
    expression: str
    type_ref: str | None
    key: str  # how the input is named in Evaluation.inputs and explanations: label, else expression
    read: Getter = field(repr=False)  # compiled expression with typeRef coercion applied
    allowed_values: tuple[Any, ...] = ()  # inputValues: what the column expects, offered to people typing examples


@dataclass(eq=False)
class Output:
    id: str
    name: str
    label: str | None
    type_ref: str | None
    allowed_values: tuple[Any, ...] = ()  # outputValues, in priority order for PRIORITY / OUTPUT ORDER

    def rank(self, value: Any) -> int:
        """Position of ``value`` in the allowed list; values outside the list rank after every listed one."""
        for position, allowed in enumerate(self.allowed_values):
            if equal(value, allowed):
                return position
        return len(self.allowed_values)


@dataclass(eq=False)
class Rule:
    id: str
    index: int  # 1-based position in the table, as the modeller numbers rows
    description: str
    input_entries: tuple[str, ...]
    output_entries: tuple[str, ...]
    # Only the cells that are not "-": (input position, predicate). Wildcards cost nothing at evaluation.
    tests: tuple[tuple[int, Predicate], ...] = field(repr=False, default=())
    outputs: tuple[Getter, ...] = field(repr=False, default=())
    conditions: tuple[tuple[str, str], ...] = field(repr=False, default=())  # (input key, cell text) per test
    # Output values when every output entry is a literal (the usual case): no closure calls at evaluation.
    constant_outputs: tuple[Any, ...] | None = field(repr=False, default=None)

    def output_values(self, ctx: Mapping[str, Any]) -> list[Any]:
        if self.constant_outputs is not None:
            return list(self.constant_outputs)
        return [get(ctx) for get in self.outputs]


@dataclass(eq=False)
class Decision:
    id: str
    name: str
    hit_policy: str
    aggregation: str | None
    inputs: list[Input]
    outputs: list[Output]
    rules: list[Rule]
    required: list[str] = field(default_factory=list)
    # Derived once so evaluation does no per-call bookkeeping; a deployed Decision is treated as immutable.
    output_names: tuple[str, ...] = field(init=False, repr=False)
    input_keys: tuple[str, ...] = field(init=False, repr=False)
    readers: tuple[Getter, ...] = field(init=False, repr=False)
    matchers: tuple[tuple[Rule, tuple[tuple[int, Predicate], ...]], ...] = field(init=False, repr=False)
    policy_label: str = field(init=False, repr=False)  # e.g. "COLLECT SUM"

    def __post_init__(self) -> None:
        self.output_names = tuple(o.name for o in self.outputs)
        self.input_keys = tuple(i.key for i in self.inputs)
        self.readers = tuple(i.read for i in self.inputs)
        self.matchers = tuple((rule, rule.tests) for rule in self.rules)
        self.policy_label = f"{self.hit_policy} {self.aggregation}" if self.aggregation else self.hit_policy


class DmnModel:
    """All decisions of one DMN file, by id in document order."""

    def __init__(
        self,
        decisions: dict[str, Decision],
        *,
        dmn_version: str = "1.3",
        name: str | None = None,
        namespace: str | None = None,
    ) -> None:
        self.decisions = decisions
        self.dmn_version = dmn_version
        self.name = name
        self.namespace = namespace

    def evaluate(
        self, decision_id: str, data: Mapping[str, Any], *, version: int | None = None
    ) -> Evaluation:
        """Evaluate ``decision_id`` against ``data``, evaluating its required decisions first."""
        from .evaluate import evaluate_model

        return evaluate_model(self, decision_id, data, version)

    def __repr__(self) -> str:
        return f"DmnModel(dmn_version={self.dmn_version!r}, decisions={list(self.decisions)!r})"
