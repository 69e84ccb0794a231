"""Who may read and edit the catalogue. Kept in one place so it can move into engine/services/policy.py (the
one policy module) as a unit once that exists.

- Everyone signed in reads services and calendars: forms offer them in a picker.
- Process owners and admins create and edit everything.
- A service's owner (the named user, or a holder of the owning role) edits their own service, except the facts
  that route approvals (tier, donor-facing) and its ownership: those decide who must sign a change off, so the
  owner of the service cannot lower them."""

from __future__ import annotations

from typing import Any

from engine.errors import NotAllowed
from engine.services.actors import Actor

CATALOGUE_ADMINS = ("process_owner", "admin")
ROUTING_FIELDS = frozenset({"tier", "donor_facing", "owner_user", "owner_role", "active"})


def is_catalogue_admin(actor: Actor) -> bool:
    return actor.has(*CATALOGUE_ADMINS)


def owns(actor: Actor, owner_user: str | None, owner_role: str | None) -> bool:
    return (owner_user is not None and owner_user == actor.username) or (
        owner_role is not None and owner_role in actor.roles)


def require_catalogue_admin(actor: Actor, what: str) -> None:
    if not is_catalogue_admin(actor):
        raise NotAllowed(f"{what} needs one of the roles {', '.join(CATALOGUE_ADMINS)}")


def check_service_edit(actor: Actor, service: Any, fields: set[str]) -> None:
    """Raises NotAllowed naming what the actor may not change on this service."""
    if is_catalogue_admin(actor):
        return
    if not owns(actor, service.owner_user, service.owner_role):
        raise NotAllowed(f"only the owner of {service.id}, process owners and admins edit it")
    forbidden = sorted(fields & ROUTING_FIELDS)
    if forbidden:
        raise NotAllowed(f"{', '.join(forbidden)} route approvals: only process owners and admins change them",
                         fields={f: "only process owners and admins change this" for f in forbidden})


def may_edit_service(actor: Actor, service: Any) -> bool:
    return is_catalogue_admin(actor) or owns(actor, service.owner_user, service.owner_role)


CI_ADMIN_FIELDS = frozenset({"owner_user", "owner_role", "active"})


def check_ci_edit(actor: Actor, ci: Any, served_owners: list[tuple[str | None, str | None]],
                  fields: set[str]) -> None:
    """A CI is edited by process owners and admins, by its own owner, and by the owner of a service it
    serves; its ownership and retirement only by process owners and admins."""
    if is_catalogue_admin(actor):
        return
    if not (owns(actor, ci.owner_user, ci.owner_role) or any(owns(actor, u, r) for u, r in served_owners)):
        raise NotAllowed(f"only the owner of {ci.id}, the owners of the services it serves, process owners and "
                         "admins edit it")
    forbidden = sorted(fields & CI_ADMIN_FIELDS)
    if forbidden:
        raise NotAllowed(f"{', '.join(forbidden)}: only process owners and admins change them",
                         fields={f: "only process owners and admins change this" for f in forbidden})


def check_service_link(actor: Actor, service: Any) -> None:
    """Putting a CI under a service, or taking it out, is the service's owner's call (or an admin's)."""
    if not is_catalogue_admin(actor) and not owns(actor, service.owner_user, service.owner_role):
        raise NotAllowed(f"only the owner of {service.id}, process owners and admins put CIs under it",
                         fields={"services": f"you do not own {service.id}"})
