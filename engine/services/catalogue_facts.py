"""The service catalogue's fact provider: the record's service -> what the catalogue knows about it.

The service is the value of the process's service field (`service` unless the process declares another). The
facts set are documented in docs/catalogue.md:

    <service field>      the service's id (a name typed instead is replaced by the id)
    service_name         its name
    service_tier         its criticality tier, 1 (critical) to 4 (low)
    critical_service     tier 1
    donor_facing         the catalogue's donor-facing flag
    service_owner        the owning user (None when a role owns it)
    service_owner_role   the owning role (None when a user owns it)

A service named in this step that the catalogue does not have refuses the step, once the catalogue has any
service at all: an install without a catalogue keeps free-text services. A value only carried over from
earlier (a record raised before the catalogue existed) is left alone and gets no facts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.db.database import UnitOfWork
from engine.diagram import declarations
from engine.diagram.metadata import ProcessMeta
from engine.services import catalogue

if TYPE_CHECKING:
    from engine.services.facts import FactContext, Provided

DEFAULT_SERVICE_FIELD = "service"
Pickers = tuple[dict[str, list[dict[str, str]]], frozenset[str]]


def service_field(meta: ProcessMeta | None) -> str:
    """The data field that holds a record's service: the process's declared `service_field`."""
    if meta is None:
        return DEFAULT_SERVICE_FIELD
    return declarations.read(meta).service_field or DEFAULT_SERVICE_FIELD


def provide(ctx: FactContext) -> Provided:
    from engine.services.facts import Provided

    out = Provided("catalogue")
    fld = ctx.decl.service_field or DEFAULT_SERVICE_FIELD
    raw = ctx.value(fld)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return out
    said = ctx.said(fld) and raw != ctx.record.get(fld)
    if not isinstance(raw, str):
        if said:
            out.errors[fld] = "must be the id of a service in the catalogue"
        return out
    found = catalogue.facts_of(ctx.uow, raw.strip())
    if found is None:
        if said and catalogue.any_services(ctx.uow):
            out.errors[fld] = f"there is no service {raw.strip()!r} in the catalogue"
        return out
    if not found.active and said and found.id != ctx.record.get(fld):
        out.errors[fld] = f"the service {found.id} is retired"
        return out
    out.values = {
        fld: found.id, "service_name": found.name, "service_tier": found.tier,
        "critical_service": found.tier == catalogue.CRITICAL_TIER, "donor_facing": found.donor_facing,
        "service_owner": found.owner_user, "service_owner_role": found.owner_role,
    }
    out.basis = {"field": fld, "service": found.id, "tier": found.tier, "donor_facing": found.donor_facing}
    return out


def pickers(uow: UnitOfWork, meta: ProcessMeta | None) -> dict[str, list[dict[str, str]]]:
    """Form fields the UI shows as a picker, with their options: the service field offers the catalogue's
    active services (none when the catalogue is empty: the field stays free text)."""
    options = catalogue.choices(uow)
    if not options:
        return {}
    return {service_field(meta) if meta is not None else DEFAULT_SERVICE_FIELD: options}


def all_pickers(uow: UnitOfWork, meta: ProcessMeta | None) -> Pickers:
    """Every picker of the process's forms (the service, the standard-change model, the CIs), and which of them
    take several values (the CI field)."""
    from engine.services import cmdb_facts, standard_models

    several = cmdb_facts.pickers(uow, meta)
    return {**pickers(uow, meta), **standard_models.pickers(uow, meta), **several}, frozenset(several)


def pickers_for_instance(uow: UnitOfWork, instance_id: int) -> Pickers:
    from engine.db.models import ProcessInstance
    from engine.services import specs

    inst = uow.session.get(ProcessInstance, instance_id)
    return all_pickers(uow, specs.loaded(uow, inst.process_version_id).meta if inst is not None else None)


def pickers_for_process(uow: UnitOfWork, process_key: str | None) -> Pickers:
    from engine.services import deploy, specs

    row = deploy.latest(uow, process_key) if process_key else None
    return all_pickers(uow, specs.loaded(uow, row.id).meta if row is not None else None)
