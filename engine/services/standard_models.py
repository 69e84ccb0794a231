"""Standard-change models per service, read from the deployed table a process declares (`standard_changes`).

A model is a rule of that table whose model input (the process's `standard_model_field`) is one name. It applies
to a service when the rule's test on the service input (the process's `service_field`) accepts the service's id,
or when the rule has no such test; its other input tests are its limits. The table is the organisation's: what is
listed is what the version in force says, and the class of a change is still decided from its facts when it runs
(the table is evaluated by the process, not by this listing)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.db.database import UnitOfWork
from engine.db.models import DecisionVersion
from engine.diagram.declarations import Declarations
from engine.diagram.metadata import ProcessMeta
from engine.rules import Decision, Rule
from engine.rules.feel import compile_unary_tests
from engine.rules.lexer import FeelError
from engine.services import decisions, declared, starting
from engine.services.actors import Actor


def _model_name(rule: Rule, position: int) -> str | None:
    try:
        test = compile_unary_tests(rule.input_entries[position])
    except FeelError:
        return None
    value = test.eq_const if test.is_const_equality else None
    return value if isinstance(value, str) and value else None


def _applies(rule: Rule, position: int | None, service_id: str) -> bool:
    if position is None:
        return True
    for at, predicate in rule.tests:
        if at == position:
            try:
                return bool(predicate(service_id, {}))
            except Exception:  # noqa: BLE001 - a test that cannot be applied to a plain id (a context lookup): not offered
                return False
    return True  # no test on the service: every service


def _position(table: Decision, expression: str | None) -> int | None:
    return next((i for i, inp in enumerate(table.inputs) if inp.expression.strip() == expression), None)


def _models(table: Decision, decl: Declarations, service_id: str) -> list[dict[str, Any]]:
    model_at = _position(table, decl.standard_model_field)
    if model_at is None:
        return []
    service_at = _position(table, decl.service_field)
    found = []
    for rule in table.rules:
        name = _model_name(rule, model_at)
        if name is None or not _applies(rule, service_at, service_id):
            continue
        limits = [{"input": table.inputs[at].label or table.inputs[at].expression,
                   "field": table.inputs[at].expression.strip(), "test": " ".join(rule.input_entries[at].split())}
                  for at, _ in rule.tests if at not in (model_at, service_at)]
        outputs = dict(zip((o.name for o in table.outputs), rule.constant_outputs or (), strict=False))
        found.append({"model": name, "rule": rule.id, "description": rule.description, "limits": limits,
                      "outputs": outputs})
    return found


def _start(uow: UnitOfWork, actor: Actor | None, process: str, decl: Declarations) -> str | None:
    """The start option (its ref) that raises a change of this process with the model field shown, if the actor
    may use one."""
    for option in starting.options(uow, actor):
        shown = {f.id for f in option.fields}
        if option.option.process == process and decl.standard_model_field in shown and decl.service_field in shown:
            return option.ref
    return None


def _tables(uow: UnitOfWork) -> Iterator[tuple[str, Declarations, DecisionVersion, Decision]]:
    """(process key, its declarations, the table version in force, the table) of every process that declares a
    standard-change table that is deployed."""
    for key, (_, decl) in declared.latest(uow).items():
        if not decl.standard_changes:
            continue
        row = decisions.latest_version(uow, decl.standard_changes)
        table = decisions.model_of(uow, row).decisions.get(decl.standard_changes) if row is not None else None
        if row is not None and table is not None:
            yield key, decl, row, table


def for_service(uow: UnitOfWork, service_id: str, actor: Actor | None = None) -> list[dict[str, Any]]:
    """Every declared table's models that apply to the service, each with the table version it comes from and
    the start option that raises one (None when the actor may not start it)."""
    result = []
    for key, decl, row, table in _tables(uow):
        source = {"process": key, "table": row.key, "version": row.version, "name": row.name,
                  "deployed_at": row.deployed_at.isoformat(), "deployed_by": row.deployed_by}
        start = _start(uow, actor, key, decl) if actor is not None else None
        for model in _models(table, decl, service_id):
            values = {decl.service_field or "service": service_id, decl.standard_model_field: model["model"]}
            result.append({**model, "source": source, "start": {"option": start, "values": values}
                           if start else None})
    return result


def pickers(uow: UnitOfWork, meta: ProcessMeta | None) -> dict[str, list[dict[str, str]]]:
    """The model field of a process that declares a standard-change table, as a picker of its models (any
    service: the table, run by the process, says whether the record's service fits)."""
    if meta is None:
        return {}
    for key, decl, _, table in _tables(uow):
        if key != meta.id:
            continue
        at = _position(table, decl.standard_model_field)
        names = [n for n in (_model_name(r, at) for r in table.rules) if n] if at is not None else []
        if names:
            return {decl.standard_model_field: [{"id": n, "name": n} for n in dict.fromkeys(names)]}
    return {}
