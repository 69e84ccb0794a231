"""The declarations of deployed versions (engine/diagram/declarations.py), cached: a version is immutable."""

from __future__ import annotations

import json
from collections.abc import Callable
from weakref import WeakKeyDictionary

from sqlalchemy import func, select

from engine.db.database import Database, UnitOfWork
from engine.db.models import ProcessVersion
from engine.diagram import declarations
from engine.diagram.declarations import Declarations, StartOption
from engine.diagram.metadata import ProcessMeta

# Bounded, yet above any real number of versions: all_versions() reads them all, and must not thrash.
MAX_CACHED = 4096
_cache: WeakKeyDictionary[Database, dict[int, Declarations]] = WeakKeyDictionary()


def of_version(uow: UnitOfWork, version_id: int) -> Declarations:
    per_db = _cache.setdefault(uow.db, {})
    hit = per_db.get(version_id)
    if hit is None:
        row = uow.session.execute(select(ProcessVersion.meta_json).where(ProcessVersion.id == version_id)).scalar_one()
        if len(per_db) >= MAX_CACHED:
            per_db.clear()
        hit = per_db[version_id] = declarations.read(ProcessMeta.from_dict(json.loads(row)))
    return hit


def all_versions(uow: UnitOfWork) -> dict[int, Declarations]:
    """Every deployed version's declarations, by version id (one query for the ids; meta read once each)."""
    ids = uow.session.execute(select(ProcessVersion.id)).scalars().all()
    return {version_id: of_version(uow, version_id) for version_id in ids}


def latest(uow: UnitOfWork) -> dict[str, tuple[int, Declarations]]:
    """The newest version of every process: key -> (version id, declarations)."""
    newest = (select(ProcessVersion.key, func.max(ProcessVersion.version).label("v"))
              .group_by(ProcessVersion.key).subquery())
    stmt = (select(ProcessVersion.key, ProcessVersion.id)
            .join(newest, (ProcessVersion.key == newest.c.key) & (ProcessVersion.version == newest.c.v))
            .order_by(ProcessVersion.key))
    return {key: (version_id, of_version(uow, version_id)) for key, version_id in uow.session.execute(stmt)}


def versions_where(uow: UnitOfWork, test: Callable[[Declarations], bool]) -> list[int]:
    """Ids of the versions whose declarations pass `test`."""
    return sorted(vid for vid, decl in all_versions(uow).items() if test(decl))


def start_options(uow: UnitOfWork) -> list[StartOption]:
    """The start options of the newest deployed versions, in their declared order. An option goes through
    its `via` process when that one is deployed; an id two processes declare is told apart by process."""
    deployed = latest(uow)
    options = [o for _, decl in deployed.values() for o in decl.start_options]
    return sorted(options, key=lambda o: (o.order, o.process, o.id))
