"""Which form fields the audit trail masks: those any deployed version marks secret.

A step's own events are masked with its version's secret fields. Data that came from elsewhere (start data, a
message's payload, an administrator's act) may hold any process's secret field, so such events are masked with
the secret fields of every deployed version. That set only changes when a version is deployed (versions are
immutable and never deleted), so it is kept per database handle (its engine) and per set of versions, and what
identifies the set (`VERSIONS`, three index look-ups) rides along in a statement the caller sends anyway: the
audit head lock."""

from __future__ import annotations

import json
import weakref
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from engine.db.models import ProcessVersion, table_of

SECRET_MASK = "********"
_VERSIONS = table_of(ProcessVersion)
_NEWEST = select(func.max(_VERSIONS.c.id)).scalar_subquery()
# The set of versions: the newest id, how many, and the newest one's content hash. Rows are only ever added, so
# the newest id names the set within one database; the count and hash tell apart a database rebuilt under a
# running process. Each an index look-up, never a scan of the rows' XML.
VERSIONS = (
    _NEWEST.label("versions_newest"),
    select(func.count()).select_from(_VERSIONS).scalar_subquery().label("versions_count"),
    select(_VERSIONS.c.sha256).where(_VERSIONS.c.id == _NEWEST).scalar_subquery().label("versions_sha256"),
)
_SUMMARY = select(*VERSIONS)
# Per engine, not per URL: one URL can front several schemas (the search path is a connect option).
_cache: weakref.WeakKeyDictionary[Engine, dict[tuple[Any, ...], frozenset[str]]] = weakref.WeakKeyDictionary()


def of_versions(session: Session, engine: Engine, summary: tuple[Any, ...]) -> frozenset[str]:
    """The secret fields of every deployed version, for the set `summary` (the values of VERSIONS) names."""
    cached = _cache.setdefault(engine, {})
    hit = cached.get(summary)
    if hit is not None:
        return hit
    names: set[str] = set()
    for (meta_json,) in session.execute(select(_VERSIONS.c.meta_json)).all():
        meta = json.loads(meta_json)
        names.update(f["id"] for el in meta.get("elements", {}).values() for f in el.get("form", [])
                     if f.get("secret"))
    cached.clear()  # an older set of versions is not asked again
    cached[summary] = frozenset(names)
    return cached[summary]


def secret_names(session: Session) -> frozenset[str]:
    """Ids of every form field marked secret in any deployed version (for reads outside a step: one query)."""
    summary = tuple(session.execute(_SUMMARY).one())
    return of_versions(session, session.get_bind().engine, summary)


def mask_secrets(value: Any, secrets: frozenset[str]) -> Any:
    if not secrets:
        return value
    if isinstance(value, dict):
        return {k: (SECRET_MASK if k in secrets and v is not None else mask_secrets(v, secrets))
                for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v, secrets) for v in value]
    return value
