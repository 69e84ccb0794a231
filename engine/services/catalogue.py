"""The service catalogue: services with their owner, criticality tier, donor-facing flag and calendars.
Records name a service by its id; the catalogue's facts about it (engine/services/catalogue_facts.py) override
what a form says. Every edit is an audit event (catalogue.*) written in the same transaction."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, select

from engine import clock
from engine.db.catalogue import Calendar, Service
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.driver import Prepared
from engine.db.models import Role, User
from engine.errors import Conflict, NotFound
from engine.services import audit
from engine.services import catalogue_input as check
from engine.services.actors import Actor
from engine.services.audit import NewEvent
from engine.services.catalogue_access import check_service_edit, require_catalogue_admin

TIERS = {1: "critical", 2: "important", 3: "standard", 4: "low"}
CRITICAL_TIER = 1
FIELDS = {"id", "name", "description", "owner_user", "owner_role", "tier", "donor_facing", "support_calendar",
          "maintenance_calendar", "active"}


def view(row: Service) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "description": row.description, "owner_user": row.owner_user,
            "owner_role": row.owner_role, "tier": row.tier, "tier_name": TIERS.get(row.tier, str(row.tier)),
            "critical": row.tier == CRITICAL_TIER, "donor_facing": row.donor_facing,
            "support_calendar": row.support_calendar_id, "maintenance_calendar": row.maintenance_calendar_id,
            "active": row.active, "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat()}


def list_services(uow: UnitOfWork, include_retired: bool = False) -> list[dict[str, Any]]:
    stmt = select(Service).order_by(Service.name)
    if not include_retired:
        stmt = stmt.where(Service.active.is_(True))
    return [view(r) for r in uow.session.execute(stmt).scalars()]


def row(uow: UnitOfWork, service_id: str) -> Service:
    found = uow.session.get(Service, service_id)
    if found is None:
        raise NotFound(f"no service {service_id}")
    return found


def get(uow: UnitOfWork, service_id: str) -> dict[str, Any]:
    return view(row(uow, service_id))


def find(uow: UnitOfWork, ref: str) -> Service | None:
    """A service by its id, or by its name in any case (what a person may type instead of the id)."""
    found = uow.session.get(Service, ref)
    if found is not None:
        return found
    stmt = select(Service).where(func.lower(Service.name) == ref.strip().lower())
    return uow.session.execute(stmt).scalars().first()


class ServiceFacts(NamedTuple):
    """What the fact provider reads of a service (catalogue_facts.py)."""

    id: str
    name: str
    tier: int
    active: bool
    donor_facing: bool
    owner_user: str | None
    owner_role: str | None


_FACT_COLUMNS = (Service.id, Service.name, Service.tier, Service.active, Service.donor_facing, Service.owner_user,
                 Service.owner_role)
# Read at every start and completion of a record naming a service, so on the driver's cursor. Not cached: the
# catalogue may change at any time, in any process, and the next step must see it.
_FACTS_BY_ID = Prepared(select(*_FACT_COLUMNS).where(Service.id == bindparam("ref")))
_FACTS_BY_NAME = Prepared(select(*_FACT_COLUMNS).where(func.lower(Service.name) == bindparam("name"))
                          .order_by(Service.id).limit(1))
_ANY = Prepared(select(Service.id).limit(1))


def facts_of(uow: UnitOfWork, ref: str) -> ServiceFacts | None:
    """The service `find` finds, as the values the fact provider reads."""
    found = _FACTS_BY_ID.one_or_none(uow, {"ref": ref}) or _FACTS_BY_NAME.one_or_none(
        uow, {"name": ref.strip().lower()})
    return None if found is None else ServiceFacts(*found)


def any_services(uow: UnitOfWork) -> bool:
    return _ANY.one_or_none(uow) is not None


def choices(uow: UnitOfWork) -> list[dict[str, str]]:
    """The picker's options: active services, with what routes approvals shown beside the name."""
    options = []
    for r in uow.session.execute(select(Service).where(Service.active.is_(True)).order_by(Service.name)).scalars():
        notes = [f"tier {r.tier} {TIERS.get(r.tier, '')}".strip()] + (["donor-facing"] if r.donor_facing else [])
        options.append({"id": r.id, "name": f"{r.name} ({', '.join(notes)})"})
    return options


def _check_refs(uow: UnitOfWork, values: dict[str, Any], errors: dict[str, str]) -> None:
    user, role = values.get("owner_user"), values.get("owner_role")
    if user is not None and uow.session.execute(select(User.id).where(User.username == user)).first() is None:
        errors["owner_user"] = f"no user {user}"
    if role is not None and uow.session.get(Role, role) is None:
        errors["owner_role"] = f"no role {role}"
    if (user is None) == (role is None):
        errors.setdefault("owner_user", "name exactly one owner: a user or a role")
    for key in ("support_calendar", "maintenance_calendar"):
        cal = values.get(key)
        if cal is not None and uow.session.get(Calendar, cal) is None:
            errors[key] = f"no calendar {cal}"


def _values(body: dict[str, Any], errors: dict[str, str], partial: bool) -> dict[str, Any]:
    """The typed values of the fields present in `body` (all of them when creating)."""
    out: dict[str, Any] = {}
    if not partial or "name" in body:
        out["name"] = check.text(body, "name", errors, required=True)
    if not partial or "description" in body:
        out["description"] = check.text(body, "description", errors, maxlength=4000)
    for key in ("owner_user", "owner_role", "support_calendar", "maintenance_calendar"):
        if not partial or key in body:
            out[key] = check.optional_ref(body, key, errors)
    if not partial or "tier" in body:
        out["tier"] = check.whole(body, "tier", errors, 1, len(TIERS))
    if not partial or "donor_facing" in body:
        out["donor_facing"] = check.flag(body, "donor_facing", errors)
    if "active" in body:
        out["active"] = check.flag(body, "active", errors, True)
    return out


def _name_taken(uow: UnitOfWork, name: str, other_than: str | None = None) -> bool:
    stmt = select(Service.id).where(func.lower(Service.name) == name.lower())
    return any(sid != other_than for sid in uow.session.execute(stmt).scalars())


COLUMNS = {"support_calendar": "support_calendar_id", "maintenance_calendar": "maintenance_calendar_id"}


def create(db: Database, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    require_catalogue_admin(actor, "adding a service")
    check.refuse_unknown(body, FIELDS)
    errors: dict[str, str] = {}
    values = _values(body, errors, partial=False)
    service_id = check.new_id(body, values.get("name"), errors)
    with unit_of_work(db) as uow:
        _check_refs(uow, values, errors)
        check.raise_if(errors)
        if uow.session.get(Service, service_id) is not None:
            raise Conflict(f"a service {service_id} already exists", fields={"id": "is taken"})
        if _name_taken(uow, values["name"]):
            raise Conflict(f"a service named {values['name']!r} already exists", fields={"name": "is taken"})
        now = clock.now()
        new = Service(id=service_id, created_at=now, updated_at=now, active=values.pop("active", True),
                      **{COLUMNS.get(k, k): v for k, v in values.items()})
        uow.session.add(new)
        uow.session.flush()
        result = view(new)
        audit.append(uow, [NewEvent("catalogue.service_created", actor.username,
                                    data={"service": service_id, "values": result})])
        uow.commit()
        return result


def update(db: Database, actor: Actor, service_id: str, body: dict[str, Any]) -> dict[str, Any]:
    check.refuse_unknown(body, FIELDS - {"id"})
    errors: dict[str, str] = {}
    values = _values(body, errors, partial=True)
    check.raise_if(errors)
    with unit_of_work(db) as uow:
        found = row(uow, service_id)
        before = view(found)
        changed = {k: v for k, v in values.items() if before.get(k) != v}
        check_service_edit(actor, found, set(changed))
        merged = {**before, **values}
        _check_refs(uow, {k: merged[k] for k in ("owner_user", "owner_role", *COLUMNS)}, errors)
        check.raise_if(errors)
        if "name" in changed and _name_taken(uow, values["name"], other_than=found.id):
            raise Conflict(f"a service named {values['name']!r} already exists", fields={"name": "is taken"})
        for key, value in changed.items():
            setattr(found, COLUMNS.get(key, key), value)
        if changed:
            found.updated_at = clock.now()
            uow.session.flush()
            audit.append(uow, [NewEvent("catalogue.service_updated", actor.username, data={
                "service": found.id, "changes": {k: {"old": before[k], "new": v} for k, v in changed.items()}})])
            uow.commit()
        return view(found)
