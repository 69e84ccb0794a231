"""Server-computed facts: values a record may not choose for itself.

At an instance's start and at every task completion (after the form is validated) each fact provider looks at
the record and returns values that override what the start payload or the form said, for example the service
catalogue's donor-facing flag for the record's service. Where a value was said and differs, the difference goes
into the trail as one `facts.overridden` event next to the step's own event. A provider can also refuse the
step (a 422 naming the fields), for example when a record names a service the catalogue does not have.

Providers live in their own modules and are listed in PROVIDERS, in the order they run; each sees the facts of
those before it (ctx.value)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from engine.db.database import UnitOfWork
from engine.diagram.declarations import Declarations
from engine.errors import ValidationFailed
from engine.services.audit import NewEvent


@dataclass
class FactContext:
    uow: UnitOfWork
    process_key: str
    decl: Declarations  # the version's declarations: read once per version (services/declared.py), not per step
    record: dict[str, Any]  # the record's data before this step ({} at the start)
    submitted: dict[str, Any]  # the start payload or the validated form values
    moment: str  # "start" or "complete"
    facts: dict[str, Any] = field(default_factory=dict)  # set by the providers that ran before

    def value(self, key: str) -> Any:
        """What the record will hold for `key` if no later provider changes it."""
        for source in (self.facts, self.submitted, self.record):
            if key in source:
                return source[key]
        return None

    def said(self, key: str) -> bool:
        return key in self.submitted


@dataclass
class Provided:
    provider: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    basis: dict[str, Any] = field(default_factory=dict)  # what the values were derived from, for the trail


Provider = Callable[[FactContext], Provided]


@dataclass
class Applied:
    values: dict[str, Any]  # what the step stores: the submitted values with the facts over them
    facts: dict[str, Any]
    overridden: list[dict[str, Any]]
    basis: dict[str, Any]
    moment: str

    def events(self, actor: str, instance_id: int | None, element_id: str | None = None,
               element_name: str | None = None) -> list[NewEvent]:
        if not self.overridden:
            return []
        return [NewEvent("facts.overridden", actor, instance_id, element_id, element_name,
                         {"moment": self.moment, "overridden": self.overridden, "basis": self.basis})]


@cache  # imported here (the providers import this module), once
def _providers() -> tuple[Provider, ...]:
    from engine.services import catalogue_facts, cmdb_facts, link_facts

    return (catalogue_facts.provide, cmdb_facts.provide, link_facts.provide)


def apply(uow: UnitOfWork, process_key: str, decl: Declarations, record: dict[str, Any],
          submitted: dict[str, Any], moment: str, strict: bool = True) -> Applied:
    """Runs every provider; raises ValidationFailed (fields) when one refuses the values. Not `strict` (a start
    by a message, which nobody is there to correct), a refusal only means that provider sets nothing."""
    ctx = FactContext(uow, process_key, decl, record, submitted, moment)
    errors: dict[str, str] = {}
    basis: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for provide in _providers():
        result = provide(ctx)
        errors.update(result.errors)
        ctx.facts.update(result.values)
        origin.update({k: result.provider for k in result.values})
        if result.basis:
            basis[result.provider] = result.basis
    if errors and strict:
        raise ValidationFailed("some values do not match the server's records", fields=errors)
    overridden = []
    for key, value in ctx.facts.items():
        if key in submitted:
            said, source = submitted[key], "start" if moment == "start" else "form"
        elif key in record:
            said, source = record[key], "record"
        else:
            continue
        if said != value:
            overridden.append({"field": key, "said": said, "value": value, "source": source,
                               "provider": origin[key]})
    return Applied({**submitted, **ctx.facts}, dict(ctx.facts), overridden, basis, moment)
