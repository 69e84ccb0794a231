"""What the staff pages read to draw a task's form or a start form (the task or start option and the pickers its
fields get from the catalogue), as plain data from one unit of work, so no session reaches web/."""

from __future__ import annotations

from typing import Any

from engine.db.database import Database, unit_of_work
from engine.services import catalogue_facts, reports, starting
from engine.services.actors import Actor


def task_form(db: Database, actor: Actor, task_id: str) -> tuple[dict[str, Any], catalogue_facts.Pickers]:
    """The task page's context and the pickers of its record's fields."""
    with unit_of_work(db, readonly=True) as uow:
        ctx = reports.task_page(uow, actor, task_id)
        return ctx, catalogue_facts.pickers_for_instance(uow, ctx["task"]["instance_id"])


def start_form(db: Database, actor: Actor, ref: str) -> tuple[starting.Option, catalogue_facts.Pickers]:
    """The start option `ref` as the actor is offered it (NotFound when not) and the pickers of its fields."""
    with unit_of_work(db, readonly=True) as uow:
        option = starting.option(uow, ref, actor)
        return option, catalogue_facts.pickers_for_process(uow, option.option.process)
