"""Exceptions and the Problem record shared by the parser, the evaluator and the table-test runner."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a DMN file (or a table test), located as precisely as we can.

    ``cell`` names a column the way a modeller sees it, e.g. ``"input 2 (urgency)"`` or
    ``"output 1 (priority)"``.
    """

    decision_id: str | None
    rule_id: str | None
    cell: str | None
    message: str

    def __str__(self) -> str:
        where = [part for part in (
            f"decision {self.decision_id}" if self.decision_id else None,
            f"rule {self.rule_id}" if self.rule_id else None,
            self.cell,
        ) if part]
        return f"{', '.join(where)}: {self.message}" if where else self.message


class RulesError(Exception):
    """Base class of everything the rules engine raises on purpose."""


class DmnParseError(RulesError):
    """A DMN file (or table-test file) cannot be deployed; ``problems`` lists all problems, not the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in DMN"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class EvaluationError(RulesError):
    """A decision could not produce a result for the data (e.g. a UNIQUE table with two matching rules)."""

    def __init__(self, decision_id: str | None, rule_ids: list[str] | None, message: str) -> None:
        self.decision_id = decision_id
        self.rule_ids: list[str] = list(rule_ids or [])
        self.message = message
        super().__init__(f"decision {decision_id}: {message}" if decision_id else message)
