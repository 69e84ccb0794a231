"""The inbox in pages: every sort, both directions, walked with a small page size, gives every task exactly once
in the right order; filters come with exact counts; bad input is a clear 400."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import update

from engine.db.database import Database, unit_of_work
from engine.db.models import HumanTask
from engine.errors import BadRequest, NotAllowed
from engine.services import inbox, instances
from engine.services.actors import Actor
from tests.bpmn_snippets import chain, user_task
from tests.conftest import ALICE, BOB, IVAN

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SEER = Actor("carol", frozenset({"change_manager"}))


@pytest.fixture
def seeded(db: Database) -> Database:
    from tests.support import deploy_xml

    deploy_xml(db, chain("desk", [user_task(0, "service_desk", name="Record")]))
    deploy_xml(db, chain("fix", [user_task(0, "resolver", name="Fix it")]))
    with time_machine.travel(NOW - timedelta(days=2), tick=False):
        for n in range(24):
            instances.start(db, IVAN, "desk" if n % 3 else "fix", {"summary": f"item {n}"})
    with unit_of_work(db) as uow:
        rows = list(uow.session.query(HumanTask).order_by(HumanTask.business_key))
        for n, task in enumerate(rows):
            values = {"priority": None if n % 5 == 0 else f"P{1 + n % 4}",
                      "due_at": None if n % 4 == 0 else NOW + timedelta(hours=(n % 7) * 3 - 6),
                      "created_at": NOW - timedelta(hours=48 - n % 6),
                      "assignee": "bob" if n % 8 == 3 else None}
            uow.session.execute(update(HumanTask).where(HumanTask.id == task.id).values(**values))
        uow.commit()
    return db


def _walk(db: Database, actor: Actor, tab: str, sort: str, limit: int = 5, **filters: object) -> list[HumanTask]:
    seen: list[HumanTask] = []
    cursor = None
    with time_machine.travel(NOW, tick=False), unit_of_work(db) as uow:
        while True:
            got = inbox.page(uow, actor, tab, inbox.Filters(**filters), sort, limit, cursor)  # type: ignore[arg-type]
            seen += got.rows
            assert len(got.rows) <= limit
            if got.next_cursor is None:
                assert got.total == len(seen)
                return seen
            cursor = got.next_cursor


FAR = datetime(9999, 12, 31, tzinfo=UTC)


def _key(sort: str):  # type: ignore[no-untyped-def]
    return {
        "due": lambda t: (t.due_at or FAR, t.priority or "P9", t.created_at, t.id),
        "priority": lambda t: (t.priority or "P9", t.due_at or FAR, t.created_at, t.id),
        "created": lambda t: (t.created_at, t.id),
        "record": lambda t: (t.business_key, t.id),
        "task": lambda t: (t.name, t.id),
    }[sort]


@pytest.mark.parametrize("sort", ["due", "priority", "created", "record", "task"])
def test_every_sort_pages_through_everything_once_in_order(seeded: Database, sort: str) -> None:
    for direction in ("", "-"):
        rows = _walk(seeded, SEER, "all", direction + sort)
        assert len(rows) == 24 and len({t.id for t in rows}) == 24
        expected = sorted(rows, key=_key(sort), reverse=direction == "-")
        assert [t.id for t in rows] == [t.id for t in expected]


def test_tabs_and_filters_with_exact_counts(seeded: Database) -> None:
    everything = _walk(seeded, SEER, "all", "due", 50)
    available = _walk(seeded, ALICE, "available", "due", 4)
    assert {t.id for t in available} == {t.id for t in everything if t.assignee is None and t.process_key == "desk"}
    assert [t.id for t in _walk(seeded, BOB, "mine", "due")] == [t.id for t in everything if t.assignee == "bob"]
    overdue = _walk(seeded, SEER, "all", "due", 3, sla="overdue")
    assert overdue and all(t.due_at is not None and t.due_at <= NOW for t in overdue)
    assert {t.id for t in overdue} == {t.id for t in everything if t.due_at is not None and t.due_at <= NOW}
    none = _walk(seeded, SEER, "all", "due", 3, sla="none")
    assert {t.id for t in none} == {t.id for t in everything if t.due_at is None}
    soon = _walk(seeded, SEER, "all", "due", 3, sla="due-soon")
    track = _walk(seeded, SEER, "all", "due", 3, sla="on-track")
    assert len(overdue) + len(none) + len(soon) + len(track) == 24
    from engine.services.reports import sla_state

    assert all(sla_state(t.due_at, t.created_at, NOW) == "due-soon" for t in soon)
    assert all(sla_state(t.due_at, t.created_at, NOW) == "on-track" for t in track)
    p2 = _walk(seeded, SEER, "all", "priority", 2, priority="P2")
    assert {t.id for t in p2} == {t.id for t in everything if t.priority == "P2"}
    unprioritised = _walk(seeded, SEER, "all", "due", 2, priority="none")
    assert {t.id for t in unprioritised} == {t.id for t in everything if t.priority is None}
    fix = _walk(seeded, SEER, "all", "task", 2, process="fix", assignee="none")
    assert {t.id for t in fix} == {t.id for t in everything if t.process_key == "fix" and t.assignee is None}
    resolver = _walk(seeded, SEER, "all", "due", 2, role="resolver")
    assert {t.id for t in resolver} == {t.id for t in everything if t.process_key == "fix"}
    today = NOW.date()
    due_today = _walk(seeded, SEER, "all", "due", 2, due_from=today, due_to=today)
    assert {t.id for t in due_today} == {t.id for t in everything if t.due_at and t.due_at.date() == today}
    text = _walk(seeded, SEER, "all", "due", 2, q="item 1")  # item 1, 10..19 in the record data
    assert len(text) == 11


def test_bad_input_is_refused(seeded: Database) -> None:
    with unit_of_work(seeded) as uow:
        for kwargs in ({"sort": "colour"}, {"cursor": "not-a-cursor"}, {"cursor": inbox.encode_cursor(["x"])},
                       {"filters": inbox.Filters(priority="P7")}, {"filters": inbox.Filters(sla="late")},
                       {"filters": inbox.Filters(due_from=date(2026, 2, 1), due_to=date(2026, 1, 1))}):
            with pytest.raises(BadRequest):
                inbox.page(uow, SEER, "all", **kwargs)  # type: ignore[arg-type]
        with pytest.raises(BadRequest):
            inbox.page(uow, SEER, "someone-elses", None)
        with pytest.raises(NotAllowed):
            inbox.page(uow, BOB, "all")
        first = inbox.page(uow, SEER, "all", sort="due", limit=5)
        assert first.next_cursor is not None
        with pytest.raises(BadRequest):  # a cursor of one sort is refused by another
            inbox.page(uow, SEER, "all", sort="record", cursor=first.next_cursor)


def test_the_service_list_has_the_api_default_order(seeded: Database) -> None:
    """tasks.list_tasks (the reports' inbox) lists what GET /tasks' first page lists, in its default order: the
    seeded mix has tasks with no due time but a high priority, which an "overdue, then priority" order puts first."""
    from engine.services import tasks

    with time_machine.travel(NOW, tick=False), unit_of_work(seeded) as uow:
        for actor, tab in ((SEER, "all"), (ALICE, "available"), (BOB, "mine"), (ALICE, "todo")):
            listed = [t.id for t in tasks.list_tasks(uow, actor, tab, limit=10)]
            assert listed == [t.id for t in inbox.page(uow, actor, tab, limit=10).rows]
        everything = [t.id for t in tasks.list_tasks(uow, SEER, "all", limit=50)]
    assert everything == [t.id for t in sorted(_walk(seeded, SEER, "all", "due", 50), key=_key("due"))]
