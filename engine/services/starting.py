"""Raising a record through a start option: the options the deployed processes declare, the form each shows
(fields of its process's start form) and the start itself, through a front-door process when one is declared
and deployed. Nothing here knows a process by name: docs/modelling.md describes the declarations."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select

from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import HumanTask
from engine.diagram.declarations import StartOption
from engine.diagram.forms import FormField, validate_submission
from engine.errors import NotFound, ValidationFailed
from engine.services import declared, instances, policy
from engine.services.actors import Actor


@dataclass(frozen=True)
class Option:
    """A start option as offered: `ref` names it in URLs (its id, or process.id when two processes share an
    id); `process` is the process it starts now (the front door when that is deployed)."""

    ref: str
    option: StartOption
    process: str
    fields: tuple[FormField, ...]

    @property
    def label(self) -> str:
        return self.option.label

    @property
    def intro(self) -> str:
        return self.option.intro

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "label": self.label, "intro": self.intro, "process": self.process,
                "declared_by": self.option.process, "fields": [f.to_dict() for f in self.fields]}


def options(uow: UnitOfWork, actor: Actor | None = None) -> list[Option]:
    """Every start option of the newest deployed versions (those the actor may start, when given)."""
    deployed = declared.latest(uow)
    found = declared.start_options(uow)
    counts: dict[str, int] = {}
    for o in found:
        counts[o.id] = counts.get(o.id, 0) + 1
    result = []
    for o in found:
        target = o.via if o.via and o.via in deployed else o.process
        if actor is not None and not policy.may_start(actor, deployed[target][1]):
            continue
        form = deployed[o.process][1].start_form
        shown = [f for f in form if not o.fields or f.id in o.fields]
        if o.fields:
            shown.sort(key=lambda f: o.fields.index(f.id))
        fields = tuple(replace(f, default=o.defaults[f.id]) if f.id in o.defaults else f for f in shown)
        result.append(Option(o.id if counts[o.id] == 1 else f"{o.process}.{o.id}", o, target, fields))
    return result


def option(uow: UnitOfWork, ref: str, actor: Actor | None = None) -> Option:
    for candidate in options(uow, actor):
        if candidate.ref == ref:
            return candidate
    raise NotFound(f"no deployed process takes a new {ref}")


@dataclass
class Started:
    business_key: str
    process: str
    version: int
    next_task: str | None = None


def validate(opt: Option, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed start data from a form post (the option's fixed values on top) and errors by field."""
    values, errors = validate_submission(list(opt.fields), raw)
    shown = {f.id for f in opt.fields}
    for name in raw:
        if name not in shown:
            errors[name] = f"is not a field of {opt.label!r} (fields: {', '.join(sorted(shown))})"
    return {**values, **opt.option.fixed}, errors


def start(db: Database, actor: Actor, ref: str, raw: dict[str, Any]) -> Started:
    """Starts the record an option describes and returns the first task the actor may do on it, if any."""
    with unit_of_work(db, readonly=True) as uow:
        opt = option(uow, ref, actor)
    data, errors = validate(opt, raw)
    if errors:
        raise ValidationFailed("some fields are not valid", fields=errors)
    if opt.process != opt.option.process:  # through the front door: tell it what was raised
        data = {**data, **opt.option.via_fixed}
    inst = instances.start(db, actor, opt.process, data)
    with unit_of_work(db, readonly=True) as uow:
        stmt = select(HumanTask).where(HumanTask.instance_id == inst.id).order_by(HumanTask.created_at)
        for task in uow.session.execute(stmt).scalars():
            if policy.task_actions(uow, actor, task)["may_work"]:
                return Started(inst.business_key, inst.process_key, inst.version, task.id)
        return Started(inst.business_key, inst.process_key, inst.version)
