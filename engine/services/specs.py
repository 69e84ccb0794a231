"""Parsed specs per deployed version, cached in the process: a version is immutable, so is its spec."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.db.database import UnitOfWork
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


_cache: dict[tuple[int, str], LoadedVersion] = {}


def loaded(uow: UnitOfWork, version_id: int) -> LoadedVersion:
    # Keyed by id and checksum: ids repeat across databases (tests, several installs in one process).
    sha = uow.session.execute(select(ProcessVersion.sha256).where(ProcessVersion.id == version_id)).scalar_one()
    hit = _cache.get((version_id, sha))
    if hit is not None:
        return hit
    row = uow.session.get(ProcessVersion, version_id)
    assert row is not None
    spec, subs = serializer.spec_from_dict(json.loads(row.spec_json))
    result = LoadedVersion(row.id, row.key, row.version, spec, subs, ProcessMeta.from_dict(json.loads(row.meta_json)))
    if len(_cache) > 256:
        _cache.clear()
    _cache[(version_id, sha)] = result
    return result
