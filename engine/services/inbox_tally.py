"""The inbox tally: open tasks counted by (version, candidate roles, priority, claimed), so that an exact inbox
total is a sum over a few hundred groups instead of a count of tens of thousands of tasks.

Triggers on human_task (migration inbox_17) write the counts: a +1 or -1 row per task inserted, deleted or
changed in a counted column, in the same transaction as the change. Writers only ever INSERT, so two steps or
two claims never wait for each other on a counter row (a counter updated in place would hold a row lock from the
first change until commit, and the step's transaction is the longest in the system). `compact` folds the rows
into one per group; the worker runs it every sweep, and a total is exact whether or not it has run."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, insert, select, text

from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import HumanTask, InboxTally

KEY = (InboxTally.process_version_id, InboxTally.process_key, InboxTally.roles_json, InboxTally.priority,
       InboxTally.assigned)
# PostgreSQL: one statement, so a concurrent compaction or trigger row is never lost (a row another compaction
# deleted first is skipped; one inserted after this statement's snapshot stays for the next round).
COMPACT_POSTGRES = """WITH gone AS (DELETE FROM inbox_tally RETURNING {key}, n)
    INSERT INTO inbox_tally ({key}, n) SELECT {key}, sum(n) FROM gone GROUP BY {key} HAVING sum(n) <> 0"""


@dataclass(frozen=True)
class Group:
    process_version_id: int
    roles: frozenset[str]
    count: int


@functools.lru_cache(maxsize=4096)
def roles_of(roles_json: str) -> frozenset[str]:
    return frozenset(json.loads(roles_json))


def groups(uow: UnitOfWork, *where: ColumnElement[bool]) -> list[Group]:
    """The open tasks matching `where` (clauses on InboxTally), counted by version and candidate roles."""
    stmt = (select(InboxTally.process_version_id, InboxTally.roles_json, func.sum(InboxTally.n))
            .where(*where).group_by(InboxTally.process_version_id, InboxTally.roles_json))
    return [Group(version, roles_of(roles), int(n)) for version, roles, n in uow.session.execute(stmt) if n]


def by_key(uow: UnitOfWork) -> dict[tuple[object, ...], int]:
    """Every group's count as the tally holds it (what tests compare with the tasks themselves)."""
    rows = uow.session.execute(select(*KEY, func.sum(InboxTally.n)).group_by(*KEY)).all()
    return {tuple(r[:-1]): int(r[-1]) for r in rows if r[-1]}


def counted(uow: UnitOfWork) -> dict[tuple[object, ...], int]:
    """The same groups counted from human_task (the truth the tally must equal)."""
    key = (HumanTask.process_version_id, HumanTask.process_key, HumanTask.roles_json, HumanTask.priority,
           HumanTask.assignee.is_not(None))
    return {tuple(r[:-1]): int(r[-1]) for r in uow.session.execute(select(*key, func.count()).group_by(*key))}


def compact(db: Database) -> int:
    """Folds the tally into one row per group; returns the rows left."""
    names = ", ".join(c.key for c in KEY)
    with unit_of_work(db) as uow:
        if uow.is_postgres:
            uow.session.execute(text(COMPACT_POSTGRES.format(key=names)))
        else:
            # SQLite: a writing unit of work begins IMMEDIATE, so nobody else adds rows until commit; the folded
            # rows get ids above `upto`.
            upto = uow.session.execute(select(func.max(InboxTally.id))).scalar_one() or 0
            summed = (select(*KEY, func.sum(InboxTally.n)).where(InboxTally.id <= upto).group_by(*KEY)
                      .having(func.sum(InboxTally.n) != 0))
            uow.session.execute(insert(InboxTally).from_select([*(c.key for c in KEY), "n"], summed))
            uow.session.execute(delete(InboxTally).where(InboxTally.id <= upto))
        left = uow.session.execute(select(func.count()).select_from(InboxTally)).scalar_one()
        uow.commit()
    return int(left)
