"""The CMDB's fact provider: the configuration items a record links, by id.

The record's CI field (declared by the process: `ci_field`) holds CI ids separated by commas; a CI's name typed
instead is replaced by its id. A CI the CMDB does not have, or a retired one newly named, refuses the step with
a 422 naming the field. The value stored is the ids in the order given, joined by ", "."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.db.database import UnitOfWork
from engine.diagram import declarations
from engine.diagram.metadata import ProcessMeta
from engine.services import cmdb

if TYPE_CHECKING:
    from engine.services.facts import FactContext, Provided

MAX_CIS = 50


def ci_field(meta: ProcessMeta | None) -> str | None:
    return declarations.read(meta).ci_field if meta is not None else None


def split(value: Any) -> list[str]:
    """The ids a CI field holds (text separated by commas, or a list)."""
    if isinstance(value, list):
        parts = [str(x) for x in value]
    elif isinstance(value, str):
        parts = value.split(",")
    else:
        return []
    seen: list[str] = []
    for part in (p.strip() for p in parts):
        if part and part not in seen:
            seen.append(part)
    return seen


def provide(ctx: FactContext) -> Provided:
    from engine.services.facts import Provided

    out = Provided("cmdb")
    fld = ctx.decl.ci_field
    if fld is None or not ctx.said(fld):
        return out
    refs = split(ctx.submitted[fld])
    if len(refs) > MAX_CIS:
        out.errors[fld] = f"names more than {MAX_CIS} configuration items"
        return out
    before = set(split(ctx.record.get(fld)))
    ids, problems = [], []
    for ref in refs:
        found = cmdb.find(ctx.uow, ref)
        if found is None:
            problems.append(f"there is no configuration item {ref!r}")
        elif not found.active and found.id not in before:
            problems.append(f"{found.id} is retired")
        else:
            ids.append(found.id)
    if problems:
        out.errors[fld] = "; ".join(problems)
        return out
    out.values = {fld: ", ".join(dict.fromkeys(ids))}
    out.basis = {"field": fld, "cis": list(dict.fromkeys(ids))}
    return out


def pickers(uow: UnitOfWork, meta: ProcessMeta | None) -> dict[str, list[dict[str, str]]]:
    """The CI field as a picker of several (none while the CMDB is empty: the field stays free text)."""
    fld = ci_field(meta)
    options = cmdb.choices(uow) if fld else []
    return {fld: options} if fld and options else {}
