"""What changed between two versions of a decision table, rule by rule: rules matched by their id (dmn-js keeps
a rule's id when its cells are edited), each changed cell named by its column, plus the hit policy and the
columns themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.db.database import Database, unit_of_work
from engine.errors import BadRequest
from engine.rules import Decision, DmnParseError, Rule, parse_dmn
from engine.services import decisions, policy
from engine.services.actors import Actor


@dataclass
class Cell:
    column: str
    before: str | None
    after: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "before": self.before, "after": self.after}


@dataclass
class RuleChange:
    rule_id: str
    status: str  # added / removed / changed
    index: int | None  # its row in the newer table (the older one for a removed rule)
    cells: list[Cell] = field(default_factory=list)
    row: dict[str, str] = field(default_factory=dict)  # column -> cell, for added and removed rules

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "status": self.status, "index": self.index,
                "cells": [c.to_dict() for c in self.cells], "row": self.row}


@dataclass
class TableDiff:
    key: str
    base: int | None
    target: int | str
    table: list[Cell] = field(default_factory=list)  # hit policy, columns added / removed / renamed
    rules: list[RuleChange] = field(default_factory=list)
    order_changed: bool = False

    @property
    def empty(self) -> bool:
        return not (self.table or self.rules or self.order_changed)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for r in self.rules if r.status == s) for s in ("added", "removed", "changed")}

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "base": self.base, "target": self.target, "empty": self.empty,
                "table": [c.to_dict() for c in self.table], "rules": [r.to_dict() for r in self.rules],
                "order_changed": self.order_changed, "counts": self.counts()}


def _columns(d: Decision) -> list[tuple[str, str]]:
    """(column id, what a person reads) for every input, then every output."""
    return ([(i.id, f"input {i.label or i.expression}") for i in d.inputs]
            + [(o.id, f"output {o.label or o.name}") for o in d.outputs])


def _cells(d: Decision, rule: Rule) -> dict[str, str]:
    ids = [c for c, _ in _columns(d)]
    values = list(rule.input_entries) + list(rule.output_entries)
    cells = dict(zip(ids, values, strict=False))
    cells["description"] = rule.description or ""
    return cells


def _labels(d: Decision) -> dict[str, str]:
    return {**dict(_columns(d)), "description": "annotation"}


def compare(key: str, old: Decision | None, new: Decision, base: int | None, target: int | str) -> TableDiff:
    diff = TableDiff(key, base, target)
    labels = {**(_labels(old) if old else {}), **_labels(new)}
    if old is None:
        diff.rules = [RuleChange(r.id, "added", r.index, row={labels[c]: v for c, v in _cells(new, r).items()})
                      for r in new.rules]
        return diff
    if old.policy_label != new.policy_label:
        diff.table.append(Cell("hit policy", old.policy_label, new.policy_label))
    old_cols, new_cols = dict(_columns(old)), dict(_columns(new))
    for col in new_cols.keys() - old_cols.keys():
        diff.table.append(Cell(f"column {new_cols[col]}", None, "added"))
    for col in old_cols.keys() - new_cols.keys():
        diff.table.append(Cell(f"column {old_cols[col]}", "removed", None))
    for col in new_cols.keys() & old_cols.keys():
        if new_cols[col] != old_cols[col]:
            diff.table.append(Cell("column name", old_cols[col], new_cols[col]))
    before = {r.id: r for r in old.rules}
    after = {r.id: r for r in new.rules}
    for rule in new.rules:
        if rule.id not in before:
            diff.rules.append(RuleChange(rule.id, "added", rule.index,
                                         row={labels[c]: v for c, v in _cells(new, rule).items()}))
            continue
        was, now = _cells(old, before[rule.id]), _cells(new, rule)
        cells = [Cell(labels[c], was.get(c), now.get(c)) for c in dict.fromkeys([*now, *was])
                 if was.get(c) != now.get(c)]
        if cells:
            diff.rules.append(RuleChange(rule.id, "changed", rule.index, cells))
    for rule in old.rules:
        if rule.id not in after:
            diff.rules.append(RuleChange(rule.id, "removed", rule.index,
                                         row={labels[c]: v for c, v in _cells(old, rule).items()}))
    kept_old = [r.id for r in old.rules if r.id in after]
    kept_new = [r.id for r in new.rules if r.id in before]
    diff.order_changed = kept_old != kept_new
    return diff


def _decision(xml: bytes, key: str, what: str) -> Decision:
    try:
        model = parse_dmn(xml)
    except DmnParseError as exc:
        raise BadRequest(f"{what} is not a valid decision table: {exc.problems[0].message}") from None
    except ValueError as exc:
        raise BadRequest(f"{what} is not a valid decision table: {exc}") from None
    if key not in model.decisions:
        raise BadRequest(f"{what} has no decision with id {key!r}")
    return model.decisions[key]


def compare_xml(key: str, old_xml: bytes | None, new_xml: bytes, base: int | None, target: int | str) -> TableDiff:
    old = _decision(old_xml, key, f"version {base}") if old_xml is not None else None
    return compare(key, old, _decision(new_xml, key, "the new table"), base, target)


def _reader(actor: Actor) -> None:
    policy.require(actor, "compare_versions")


def history(db: Database, actor: Actor, key: str) -> list[dict[str, Any]]:
    """The versions of a table, oldest first (raises NotFound for an unknown key)."""
    _reader(actor)
    with unit_of_work(db, readonly=True) as uow:
        return decisions.list_versions(uow, key)


def versions(db: Database, actor: Actor, key: str, base: int, target: int) -> TableDiff:
    """Deployed version `base` of a table against deployed version `target` (base 0: nothing)."""
    _reader(actor)
    with unit_of_work(db, readonly=True) as uow:
        new = decisions.get_version(uow, key, target).dmn_xml.encode("utf-8")
        old = decisions.get_version(uow, key, base).dmn_xml.encode("utf-8") if base > 0 else None
    return compare_xml(key, old, new, base or None, target)


def draft(db: Database, actor: Actor, key: str, xml: bytes) -> TableDiff:
    """An edited table, not yet deployed, against the version in force."""
    policy.require(actor, "deploy")
    with unit_of_work(db, readonly=True) as uow:
        row = decisions.latest_version(uow, key)
        old = row.dmn_xml.encode("utf-8") if row is not None else None
        base = row.version if row is not None else None
    return compare_xml(key, old, xml, base, "draft")
