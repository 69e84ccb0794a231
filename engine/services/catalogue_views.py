"""What the catalogue's API and pages read (services, calendars, configuration items, blackouts), as plain data:
one unit of work each, so no session or ORM row reaches web/."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.db.database import Database, unit_of_work
from engine.services import blackouts, calendars, catalogue, cmdb, standard_models
from engine.services.actors import Actor
from engine.services.catalogue_access import is_catalogue_admin, may_edit_service, owns


def services(db: Database, include_retired: bool = False) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return catalogue.list_services(uow, include_retired=include_retired)


def service(db: Database, actor: Actor, ref: str) -> dict[str, Any]:
    """A service with the standard-change models that apply to it (engine/services/standard_models.py)."""
    with unit_of_work(db, readonly=True) as uow:
        return {**catalogue.get(uow, ref), "standard_changes": standard_models.for_service(uow, ref, actor)}


def calendar_list(db: Database) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return calendars.list_calendars(uow)


def calendar(db: Database, ref: str) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        return calendars.get(uow, ref)


def calendar_open(db: Database, ref: str, at: datetime) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        return calendars.open_at(uow, ref, at)


def items(db: Database, service: str | None = None, type_: str | None = None,
          include_retired: bool = False) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return cmdb.list_items(uow, service=service, type_=type_, include_retired=include_retired)


def item(db: Database, ref: str) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        return cmdb.get(uow, ref)


def item_history(db: Database, ref: str) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return cmdb.history(uow, ref)


def blackout_list(db: Database) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return blackouts.list_blackouts(uow)


def home_page(db: Database, actor: Actor) -> dict[str, Any]:
    """The catalogue page: every service and CI, the pickers of the add-a-CI form."""
    with unit_of_work(db, readonly=True) as uow:
        listed = catalogue.list_services(uow, include_retired=True)
        return {"services": listed, "cis": cmdb.list_items(uow, include_retired=True),
                "admin": is_catalogue_admin(actor), "types": cmdb.TYPES,
                "service_options": [s for s in listed if s["active"]], "ci_options": cmdb.choices(uow),
                "owners": cmdb.owner_choices(uow)}


def service_page(db: Database, actor: Actor, ref: str) -> dict[str, Any]:
    """A service's page: its facts, its CIs, the calendars its form offers and whether the actor may edit it."""
    with unit_of_work(db, readonly=True) as uow:
        row = catalogue.row(uow, ref)
        return {"service": catalogue.view(row), "models": standard_models.for_service(uow, ref, actor),
                "cis": cmdb.list_items(uow, service=ref, include_retired=True),
                "calendars": calendars.list_calendars(uow), "may_edit": may_edit_service(actor, row),
                "admin": is_catalogue_admin(actor), "tiers": catalogue.TIERS}


def ci_page(db: Database, actor: Actor, ref: str) -> dict[str, Any]:
    """A CI's page: the CI, its history, the form's pickers and whether the actor may edit it (its owner, the
    owners of the services it serves, catalogue admins)."""
    with unit_of_work(db, readonly=True) as uow:
        found = cmdb.get(uow, ref)
        served = [catalogue.row(uow, s) for s in found["services"]]
        may_edit = is_catalogue_admin(actor) or owns(actor, found["owner_user"], found["owner_role"]) or any(
            owns(actor, s.owner_user, s.owner_role) for s in served)
        return {"ci": found, "events": cmdb.history(uow, ref), "services": catalogue.list_services(uow),
                "ci_options": [o for o in cmdb.choices(uow) if o["id"] != ref], "may_edit": may_edit,
                "admin": is_catalogue_admin(actor), "types": cmdb.TYPES}


def blackout_page(db: Database, actor: Actor) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        return {"rows": blackouts.list_blackouts(uow), "services": catalogue.list_services(uow),
                "admin": is_catalogue_admin(actor)}
