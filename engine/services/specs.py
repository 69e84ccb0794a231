"""Parsed specs per deployed version, cached in the process: a version is immutable, so is its spec."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from weakref import WeakKeyDictionary

from engine.db.database import Database, UnitOfWork
from engine.db.models import ProcessVersion
from engine.diagram.metadata import ProcessMeta
from engine.spiff import serializer


@dataclass
class LoadedVersion:
    id: int
    key: str
    version: int
    spec: Any
    subprocess_specs: dict[str, Any]
    meta: ProcessMeta

    # Read on every step: worked out once per version (a version is immutable), not on each step.
    @cached_property
    def catches_messages(self) -> bool:
        """False for a version without message catch events: its steps never touch subscriptions."""
        return any(el.message and el.kind not in ("endEvent", "intermediateThrowEvent", "sendTask")
                   or el.kind == "eventBasedGateway" for el in self.meta.elements.values())

    @cached_property
    def has_external_tasks(self) -> bool:
        """False for a version without service tasks: its steps never touch the external task rows."""
        return any(el.kind == "serviceTask" for el in self.meta.elements.values())

    @cached_property
    def secret_fields(self) -> frozenset[str]:
        """The form fields this version marks secret: masked in its steps' audit events."""
        return frozenset(f.id for el in self.meta.elements.values() for f in el.form if f.secret)

    @cached_property
    def flow_between(self) -> dict[tuple[str, str], str]:
        """(source, target) -> flow id: which flow a step took between two elements."""
        found: dict[tuple[str, str], str] = {}
        for flow in self.meta.flows.values():
            found.setdefault((flow.source, flow.target), flow.id)
        return found


# Per database (a deployed version is immutable, its id never reused within one database): no query at all
# on a hit. Weak keys, so a disposed Database takes its cache with it.
_cache: WeakKeyDictionary[Database, dict[int, LoadedVersion]] = WeakKeyDictionary()


def loaded(uow: UnitOfWork, version_id: int) -> LoadedVersion:
    per_db = _cache.setdefault(uow.db, {})
    hit = per_db.get(version_id)
    if hit is not None:
        return hit
    row = uow.session.get(ProcessVersion, version_id)
    if row is None:
        raise LookupError(version_id)
    spec, subs = serializer.spec_from_dict(json.loads(row.spec_json))
    result = LoadedVersion(row.id, row.key, row.version, spec, subs, ProcessMeta.from_dict(json.loads(row.meta_json)))
    if len(per_db) > 256:
        per_db.clear()
    per_db[version_id] = result
    return result
