"""The inbox tally (open tasks counted by version, roles, priority and claimed, kept by triggers) stays equal to the
tasks themselves through claims, unclaims, assigns, reassigns, completions, cancellations and a withdrawal, before
and after it is compacted; and the totals it gives equal the rows the inbox walks (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.db.database import unit_of_work
from engine.db.models import InboxTally
from engine.services import inbox_tally, self_service, timers, users
from engine.services.actors import Actor
from tests.api.conftest import Api
from tests.api.test_api import RECORD
from tests.api.test_inbox_totals import _check

# Totals the tally answers (every one of these goes through it), and two it leaves to a count.
QUERIES = [("carol", "scope=all"), ("carol", "scope=all&assignee=none"), ("carol", "scope=all&role=service_desk"),
           ("carol", "scope=all&role=resolver&priority=none"), ("carol", "scope=all&process=response&priority=P3"),
           ("carol", "scope=all&process=nothing"), ("alice", "scope=available"), ("alice", "scope=todo"),
           ("alice", "scope=available&role=requester"), ("bob", "scope=todo"), ("ivan", "scope=todo"),
           ("ivan", "scope=available"), ("carol", "scope=all&assignee=alice"), ("carol", "scope=all&sla=none")]


def _exact(api: Api) -> dict[str, int]:
    """The tally equals the tasks group by group, and every total equals the rows walked; returns the totals."""
    with unit_of_work(api.db, readonly=True) as uow:
        assert inbox_tally.by_key(uow) == inbox_tally.counted(uow)
    return _check(api, QUERIES)


def test_the_tally_stays_exact_through_every_change_of_a_task(api: Api) -> None:
    users.add_user(api.db, "sam", "demo", ["service_desk"])
    keys = [api.post("/instances", "ivan", json={"process": "response", "data": {"summary": f"r{n}"}}).json[
        "business_key"] for n in range(5)]
    start = _exact(api)
    assert start["alice scope=available"] == 5 and start["carol scope=all"] == 5
    ids = [t["id"] for t in api.get("/tasks?scope=available&sort=record", "alice").json["tasks"]]
    assert [r["ok"] for r in api.post("/tasks/claim", "alice", json={"ids": ids[:2]}).json["results"]] == [True, True]
    claimed = _exact(api)
    assert claimed["alice scope=available"] == 3 and claimed["carol scope=all&assignee=none"] == 3
    assert api.post(f"/tasks/{ids[0]}/unclaim", "alice").status_code == 200
    assert api.post(f"/tasks/{ids[2]}/assign", "alice", json={"assignee": "alice"}).status_code == 200
    assert api.post(f"/tasks/{ids[1]}/assign", "admin", json={"assignee": "sam"}).status_code == 200  # reassign
    assert _exact(api)["carol scope=all&assignee=alice"] == 1
    # Completing the record's first task: the step closes it and offers what comes next, with its priority.
    done = api.post(f"/tasks/{ids[2]}/complete", "alice", json={"data": RECORD})  # the table makes it P3
    assert done.status_code == 200, done.json
    completed = _exact(api)
    assert ids[2] not in [t["id"] for t in api.get("/tasks?scope=all&limit=200", "carol").json["tasks"]]
    assert completed["carol scope=all&process=response&priority=P3"] >= 1
    # Cancelled by a manager and withdrawn by its requester: their open tasks go.
    assert api.post(f"/instances/{keys[3]}/cancel", "carol", json={"reason": "duplicate"}).status_code == 200
    self_service.withdraw(api.db, Actor("ivan", frozenset({"requester"})), keys[4], "It works again")
    withdrawn = _exact(api)
    assert withdrawn["carol scope=all"] == completed["carol scope=all"] - 2
    # Folding the +1/-1 rows changes no total and leaves one row per group.
    with unit_of_work(api.db, readonly=True) as uow:
        before = uow.session.execute(select(func.count()).select_from(InboxTally)).scalar_one()
        groups = len(inbox_tally.counted(uow))
    assert inbox_tally.compact(api.db) == groups < before
    assert _exact(api) == withdrawn
    assert api.post(f"/tasks/{ids[0]}/claim", "alice").status_code == 200  # the triggers go on after a compaction
    assert _exact(api)["alice scope=available"] == withdrawn["alice scope=available"] - 1
    timers.run_worker(api.db, once=True)  # the worker's sweep folds them too
    with unit_of_work(api.db, readonly=True) as uow:
        rows = uow.session.execute(select(func.count()).select_from(InboxTally)).scalar_one()
        assert rows == len(inbox_tally.counted(uow)) and inbox_tally.by_key(uow) == inbox_tally.counted(uow)
