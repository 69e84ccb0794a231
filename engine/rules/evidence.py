"""The record of one decision evaluation: what went in, which rules matched, what came out, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .values import feel_text, to_json


@dataclass(slots=True)
class Evaluation:
    decision_id: str
    decision_name: str
    version: int | None
    inputs: dict[str, Any]  # input label-or-expression -> value as seen (after typeRef coercion)
    matched: list[str]  # rule ids, in the order the hit policy returns them
    outputs: dict[str, Any]
    annotations: list[str]  # non-empty descriptions of the matched rules, in ``matched`` order
    required: list[Evaluation] = field(default_factory=list)
    hit_policy: str = "UNIQUE"
    # rule id -> ((input key, cell text), ...) for the cells of that rule that were not "-"
    conditions: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "decision_name": self.decision_name,
            "version": self.version,
            "hit_policy": self.hit_policy,
            "inputs": to_json(self.inputs),
            "matched": list(self.matched),
            "outputs": to_json(self.outputs),
            "annotations": list(self.annotations),
            "conditions": {
                rule_id: [{"input": key, "test": text} for key, text in cells]
                for rule_id, cells in self.conditions.items()
            },
            "required": [r.to_dict() for r in self.required],
        }

    def explain(self) -> str:
        """One line for this decision, then one indented line per required decision it relied on."""
        lines = [self._explain_line()]
        for sub in self.required:
            lines.extend("  given " + line.lstrip() for line in sub.explain().splitlines())
        return "\n".join(lines)

    def _explain_line(self) -> str:
        outputs = ", ".join(f"{name} = {feel_text(value)}" for name, value in self.outputs.items())
        of = f"{self.decision_id}" + (f" v{self.version}" if self.version is not None else "")
        if not self.matched:
            seen = ", ".join(f"{key}={feel_text(value)}" for key, value in self.inputs.items())
            given = f" {seen}" if seen else ""
            return f"no rule of {of} matched{given}, so {outputs}"
        notes = f" [{'; '.join(self.annotations)}]" if self.annotations else ""
        if len(self.matched) == 1:
            rule_id = self.matched[0]
            return f"{outputs} because rule {rule_id} of {of} matched {self._why(rule_id)}{notes}"
        reasons = "; ".join(f"{rule_id} matched {self._why(rule_id)}" for rule_id in self.matched)
        return f"{outputs} because rules of {of} matched: {reasons}{notes}"

    def _why(self, rule_id: str) -> str:
        cells = self.conditions.get(rule_id, ())
        if not cells:
            return "(it applies to any input)"
        parts = []
        for key, text in cells:
            shown = feel_text(self.inputs.get(key))
            # Show the cell only when it says more than the value itself (e.g. "< 4" rather than "high").
            parts.append(f"{key}={shown}" if shown == text else f"{key}={shown} ({text})")
        return ", ".join(parts)
