"""The lean CMDB: configuration items with a type, an owner, the services they serve and their relations to
other CIs (depends on, runs on). Every edit is an audit event (catalogue.ci_*) in the same transaction, with the
old and new value of each field changed, so a CI's history is read from the trail."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, func, select

from engine import clock
from engine.db.catalogue import Service
from engine.db.cmdb import CiRelation, CiService, ConfigItem
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import AuditEvent, Role, User
from engine.errors import Conflict, NotFound
from engine.services import audit
from engine.services import catalogue_input as check
from engine.services.actors import Actor
from engine.services.audit import NewEvent
from engine.services.catalogue_access import check_ci_edit, check_service_link, require_catalogue_admin

TYPES = ("application", "database", "server", "virtual-machine", "network-device", "storage", "cloud-service",
         "end-user-device", "other")
RELATIONS = ("depends_on", "runs_on")
FIELDS = {"id", "name", "type", "description", "owner_user", "owner_role", "services", *RELATIONS, "active"}
MAX_LINKS = 200
HISTORY_TYPES = ("catalogue.ci_created", "catalogue.ci_updated", "catalogue.ci_deleted")


def _links(uow: UnitOfWork, ci_id: str) -> dict[str, list[str]]:
    services = uow.session.execute(select(CiService.service_id).where(CiService.ci_id == ci_id)
                                   .order_by(CiService.service_id)).scalars()
    out: dict[str, list[str]] = {"services": list(services), **{k: [] for k in RELATIONS}}
    for rel in uow.session.execute(select(CiRelation).where(CiRelation.ci_id == ci_id)
                                   .order_by(CiRelation.kind, CiRelation.target_id)).scalars():
        out[rel.kind].append(rel.target_id)
    return out


def view(uow: UnitOfWork, row: ConfigItem) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "type": row.type, "description": row.description,
            "owner_user": row.owner_user, "owner_role": row.owner_role, **_links(uow, row.id),
            "active": row.active, "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat()}


def row(uow: UnitOfWork, ci_id: str) -> ConfigItem:
    found = uow.session.get(ConfigItem, ci_id)
    if found is None:
        raise NotFound(f"no configuration item {ci_id}")
    return found


def get(uow: UnitOfWork, ci_id: str) -> dict[str, Any]:
    found = view(uow, row(uow, ci_id))
    found["used_by"] = sorted(set(uow.session.execute(
        select(CiRelation.ci_id).where(CiRelation.target_id == ci_id)).scalars()))
    return found


def list_items(uow: UnitOfWork, service: str | None = None, type_: str | None = None,
               include_retired: bool = False) -> list[dict[str, Any]]:
    stmt = select(ConfigItem).order_by(ConfigItem.name)
    if not include_retired:
        stmt = stmt.where(ConfigItem.active.is_(True))
    if service:
        stmt = stmt.where(ConfigItem.id.in_(select(CiService.ci_id).where(CiService.service_id == service)))
    if type_:
        stmt = stmt.where(ConfigItem.type == type_)
    return [view(uow, r) for r in uow.session.execute(stmt).scalars()]


def find(uow: UnitOfWork, ref: str) -> ConfigItem | None:
    """A CI by its id, or by its name in any case (what a person may type instead of the id)."""
    found = uow.session.get(ConfigItem, ref)
    if found is not None:
        return found
    stmt = select(ConfigItem).where(func.lower(ConfigItem.name) == ref.strip().lower())
    return uow.session.execute(stmt).scalars().first()


def choices(uow: UnitOfWork) -> list[dict[str, str]]:
    """The picker's options: active CIs, with their type."""
    stmt = select(ConfigItem).where(ConfigItem.active.is_(True)).order_by(ConfigItem.name)
    return [{"id": r.id, "name": f"{r.name} ({r.type})"} for r in uow.session.execute(stmt).scalars()]


def owner_choices(uow: UnitOfWork) -> list[dict[str, str]]:
    """Who may own a CI, for a picker: roles (role:<name>), then people (user:<name>)."""
    roles = [{"id": f"role:{r}", "name": f"role {r}"} for r in uow.session.execute(
        select(Role.name).order_by(Role.name)).scalars()]
    people = [{"id": f"user:{u}", "name": u} for u in uow.session.execute(
        select(User.username).order_by(User.username)).scalars()]
    return roles + people


def _id_list(body: dict[str, Any], key: str, errors: dict[str, str]) -> list[str] | None:
    """A list of ids: a JSON list, or text separated by commas (what a CSV cell or a form holds)."""
    raw = body.get(key)
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        raw = [part for part in (p.strip() for p in raw.replace(";", ",").split(",")) if part]
    if not isinstance(raw, list) or len(raw) > MAX_LINKS or not all(isinstance(x, str) and x for x in raw):
        errors[key] = f"must be a list of at most {MAX_LINKS} ids"
        return None
    return sorted({x.strip() for x in raw})


def _values(body: dict[str, Any], errors: dict[str, str], partial: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not partial or "name" in body:
        out["name"] = check.text(body, "name", errors, required=True)
    if not partial or "type" in body:
        value = check.text(body, "type", errors, required=True, maxlength=40)
        if value is not None and value not in TYPES:
            errors["type"] = f"must be one of {', '.join(TYPES)}"
        out["type"] = value
    if not partial or "description" in body:
        out["description"] = check.text(body, "description", errors, maxlength=4000)
    for key in ("owner_user", "owner_role"):
        if not partial or key in body:
            out[key] = check.optional_ref(body, key, errors)
    for key in ("services", *RELATIONS):
        if not partial or key in body:
            out[key] = _id_list(body, key, errors)
    if "active" in body:
        out["active"] = check.flag(body, "active", errors, True)
    return out


def _check_refs(uow: UnitOfWork, ci_id: str, values: dict[str, Any], errors: dict[str, str]) -> None:
    user, role = values.get("owner_user"), values.get("owner_role")
    if user is not None and uow.session.execute(select(User.id).where(User.username == user)).first() is None:
        errors["owner_user"] = f"no user {user}"
    if role is not None and uow.session.get(Role, role) is None:
        errors["owner_role"] = f"no role {role}"
    if (user is None) == (role is None):
        errors.setdefault("owner_user", "name exactly one owner: a user or a role")
    missing = [s for s in values.get("services") or [] if uow.session.get(Service, s) is None]
    if missing:
        errors["services"] = f"no service {', '.join(missing)}"
    for kind in RELATIONS:
        targets = values.get(kind) or []
        if ci_id in targets:
            errors[kind] = "a CI cannot relate to itself"
            continue
        unknown = [t for t in targets if uow.session.get(ConfigItem, t) is None]
        if unknown:
            errors[kind] = f"no configuration item {', '.join(unknown)}"


def _write_links(uow: UnitOfWork, ci_id: str, values: dict[str, Any]) -> None:
    if "services" in values:
        uow.session.execute(delete(CiService).where(CiService.ci_id == ci_id))
        uow.session.add_all(CiService(ci_id=ci_id, service_id=s) for s in values["services"])
    for kind in RELATIONS:
        if kind in values:
            uow.session.execute(delete(CiRelation).where(CiRelation.ci_id == ci_id, CiRelation.kind == kind))
            uow.session.add_all(CiRelation(ci_id=ci_id, kind=kind, target_id=t) for t in values[kind])


def _name_taken(uow: UnitOfWork, name: str, other_than: str | None = None) -> bool:
    stmt = select(ConfigItem.id).where(func.lower(ConfigItem.name) == name.lower())
    return any(cid != other_than for cid in uow.session.execute(stmt).scalars())


def _check_service_links(uow: UnitOfWork, actor: Actor, before: list[str], after: list[str]) -> None:
    for service_id in sorted(set(before) ^ set(after)):
        service = uow.session.get(Service, service_id)
        if service is not None:
            check_service_link(actor, service)


def create_in(uow: UnitOfWork, actor: Actor, body: dict[str, Any], via: str = "api") -> dict[str, Any]:
    """Adds a CI within the caller's unit of work (the CSV import adds many in one)."""
    check.refuse_unknown(body, FIELDS)
    errors: dict[str, str] = {}
    values = _values(body, errors, partial=False)
    ci_id = check.new_id(body, values.get("name"), errors)
    _check_refs(uow, ci_id or "", values, errors)
    check.raise_if(errors)
    assert ci_id is not None
    if uow.session.get(ConfigItem, ci_id) is not None:
        raise Conflict(f"a configuration item {ci_id} already exists", fields={"id": "is taken"})
    if _name_taken(uow, values["name"]):
        raise Conflict(f"a configuration item named {values['name']!r} already exists", fields={"name": "is taken"})
    if not values["services"]:
        require_catalogue_admin(actor, "adding a configuration item under no service")
    _check_service_links(uow, actor, [], values["services"])
    now = clock.now()
    uow.session.add(ConfigItem(id=ci_id, name=values["name"], type=values["type"], description=values["description"],
                               owner_user=values["owner_user"], owner_role=values["owner_role"],
                               active=values.get("active", True), created_at=now, updated_at=now))
    uow.session.flush()
    _write_links(uow, ci_id, values)
    uow.session.flush()
    result = view(uow, row(uow, ci_id))
    audit.append(uow, [NewEvent("catalogue.ci_created", actor.username, data={"ci": ci_id, "via": via,
                                                                               "values": result})])
    return result


def update_in(uow: UnitOfWork, actor: Actor, ci_id: str, body: dict[str, Any], via: str = "api") -> dict[str, Any]:
    check.refuse_unknown(body, FIELDS - {"id"})
    errors: dict[str, str] = {}
    values = _values(body, errors, partial=True)
    check.raise_if(errors)
    found = row(uow, ci_id)
    before = view(uow, found)
    changed = {k: v for k, v in values.items() if before.get(k) != v}
    served = [(s.owner_user, s.owner_role) for s in uow.session.execute(
        select(Service).where(Service.id.in_(before["services"]))).scalars()]
    check_ci_edit(actor, found, served, set(changed))
    merged = {**before, **values}
    _check_refs(uow, ci_id, {k: merged[k] for k in ("owner_user", "owner_role", "services", *RELATIONS)}, errors)
    check.raise_if(errors)
    if "name" in changed and _name_taken(uow, values["name"], other_than=ci_id):
        raise Conflict(f"a configuration item named {values['name']!r} already exists", fields={"name": "is taken"})
    if "services" in changed:
        _check_service_links(uow, actor, before["services"], values["services"])
    for key in ("name", "type", "description", "owner_user", "owner_role", "active"):
        if key in changed:
            setattr(found, key, changed[key])
    _write_links(uow, ci_id, {k: v for k, v in changed.items() if k in ("services", *RELATIONS)})
    if changed:
        found.updated_at = clock.now()
        uow.session.flush()
        audit.append(uow, [NewEvent("catalogue.ci_updated", actor.username, data={
            "ci": ci_id, "via": via, "changes": {k: {"old": before[k], "new": v} for k, v in changed.items()}})])
    return view(uow, found)


def create(db: Database, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    with unit_of_work(db) as uow:
        result = create_in(uow, actor, body)
        uow.commit()
        return result


def update(db: Database, actor: Actor, ci_id: str, body: dict[str, Any]) -> dict[str, Any]:
    with unit_of_work(db) as uow:
        result = update_in(uow, actor, ci_id, body)
        uow.commit()
        return result


def delete_item(db: Database, actor: Actor, ci_id: str) -> None:
    """Only a CI nothing relates to; records keep naming it (retire it instead to keep it out of pickers)."""
    require_catalogue_admin(actor, "deleting a configuration item")
    with unit_of_work(db) as uow:
        found = row(uow, ci_id)
        users = sorted(set(uow.session.execute(select(CiRelation.ci_id).where(CiRelation.target_id == ci_id))
                           .scalars()))
        if users:
            raise Conflict(f"{', '.join(users)} relate to {ci_id}: remove those relations first", used_by=users)
        gone = view(uow, found)
        uow.session.delete(found)
        uow.session.flush()
        audit.append(uow, [NewEvent("catalogue.ci_deleted", actor.username, data={"ci": ci_id, "values": gone})])
        uow.commit()


def history(uow: UnitOfWork, ci_id: str) -> list[dict[str, Any]]:
    """The CI's edits from the audit trail, oldest first (the CI may be gone: its deletion is history too)."""
    stmt = (select(AuditEvent).where(AuditEvent.type.in_(HISTORY_TYPES), AuditEvent.instance_id.is_(None))
            .order_by(AuditEvent.seq))
    found = []
    for ev in uow.session.execute(stmt).scalars():
        data = json.loads(ev.data_json or "{}")
        if data.get("ci") == ci_id:
            found.append({"seq": ev.seq, "at": ev.at.isoformat(), "actor": ev.actor, "type": ev.type, "data": data})
    return found
