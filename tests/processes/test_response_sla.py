"""The response process's SLA clocks with a frozen clock: business hours of the service's calendar (Lagos,
UTC+1, Mon-Fri 09:00-17:00), nights, weekends, a holiday, the pause while the requester confirms, and a reopened
record whose clock goes on from where it stood. Every expected figure is worked out by hand in the comments."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from engine.db.database import Database, unit_of_work
from engine.db.models_desk import Notification
from engine.services import calendars, catalogue, instances, timers, users
from engine.services import sla as sla_service
from tests.conftest import ALICE, BOB, GRACE, HEIDI, IVAN
from tests.processes.response_support import RECORD
from tests.support import deploy_process, do, events

LAGOS = 1  # hours ahead of UTC, all year
WEEKDAYS = [{"day": d, "start": "09:00", "end": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")]


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A Lagos wall-clock time in March 2026 as UTC (2 March is a Monday)."""
    return datetime(2026, 3, day, hour - LAGOS, minute, tzinfo=UTC)


@pytest.fixture
def db(scenario_db: Database) -> Iterator[Database]:
    with time_machine.travel(local(1, 12), tick=False):
        deploy_process(scenario_db, "response")
        calendars.create(scenario_db, GRACE, {"id": "lagos-office", "name": "Lagos office", "time_zone": "Africa/Lagos",
                                              "hours": WEEKDAYS,
                                              "holidays": [{"date": "2026-03-09", "name": "Test holiday"}]})
        catalogue.create(scenario_db, GRACE, {"id": "mail", "name": "Mail", "owner_role": "service_desk", "tier": 3,
                                              "support_calendar": "lagos-office"})
    yield scenario_db


def clocks(db: Database, key: str) -> dict[str, dict[str, Any]]:
    with unit_of_work(db) as uow:
        view = sla_service.clocks_of(uow, HEIDI, key)
    return {c["clock"]: c for c in view["clocks"]}


def raise_record(db: Database, impact: str, urgency: str) -> str:
    key = instances.start(db, IVAN, "response", {"query_type": "incident"}).business_key
    return key


def hours(c: dict[str, Any]) -> float:
    return round(c["elapsed_seconds"] / 3600, 4)


def test_clocks_run_in_business_hours_across_night_weekend_and_holiday(db: Database) -> None:
    with time_machine.travel(local(5, 15), tick=False) as t:  # Thursday 15:00
        key = raise_record(db, "medium", "medium")
        # registration counts: the clocks started when the query was received, before anyone recorded it
        assert {n: c["state"] for n, c in clocks(db, key).items()} == {"respond": "running", "resolve": "running"}
        t.move_to(local(5, 15, 30))
        do(db, ALICE, key, "record", {**RECORD, "query_type": "incident", "impact": "medium", "urgency": "medium"})
        c = clocks(db, key)
        assert (c["respond"]["target"], c["resolve"]["target"]) == ("PT2H", "PT24H")  # P3
        # respond: 2 open hours from Thursday 15:00 -> Thursday 17:00 Lagos (16:00 UTC)
        assert c["respond"]["due_at"] == local(5, 17).isoformat()
        # resolve: 24 open hours: Thu 2h + Fri 8h + (weekend, Monday holiday) + Tue 8h + Wed 6h -> Wed 15:00
        assert c["resolve"]["due_at"] == local(11, 15).isoformat()

        t.move_to(local(6, 9, 30))  # Friday 09:30: the night did not count
        c = clocks(db, key)
        assert hours(c["respond"]) == 2.5 and c["respond"]["breached"] is True
        do(db, ALICE, key, "restore_first_line", {"resolution": "no luck", "resolved_first_line": False})
        assert clocks(db, key)["respond"]["state"] == "stopped"

        t.move_to(local(10, 11))  # Tuesday 11:00, after the weekend and Monday's holiday
        c = clocks(db, key)
        assert hours(c["respond"]) == 2.5  # stopped: the first response is final
        assert hours(c["resolve"]) == 2 + 8 + 2  # Thu 15-17, Fri 9-17, Tue 9-11
        do(db, BOB, key, "restore", {"resolution": "replaced the relay"})
        assert clocks(db, key)["resolve"]["state"] == "paused"  # waiting on the requester

        t.move_to(local(11, 16))  # Wednesday 16:00: the requester took a day; it does not count
        do(db, IVAN, key, "confirm", {"user_confirmed": True})
        c = clocks(db, key)
    assert c["resolve"]["state"] == "stopped" and c["resolve"]["stopped_by"] == "incident_gateway"
    assert hours(c["resolve"]) == 12 and c["resolve"]["result"] == "met"
    assert c["respond"]["result"] == "breached"
    (pause,) = c["resolve"]["pauses"]
    assert (pause["reason"], pause["from"], pause["to"]) == ("awaiting_requester", local(10, 11).isoformat(),
                                                            local(11, 16).isoformat())


def test_a_reopened_record_resumes_its_clock_and_never_resets_it(db: Database) -> None:
    with time_machine.travel(local(2, 10), tick=False) as t:  # Monday 10:00
        key = raise_record(db, "high", "medium")
        t.move_to(local(2, 10, 10))
        do(db, ALICE, key, "record", {**RECORD, "query_type": "incident", "impact": "high", "urgency": "medium"})
        t.move_to(local(2, 10, 20))
        do(db, ALICE, key, "restore_first_line", {"resolution": "restarted", "resolved_first_line": True})
        c = clocks(db, key)
        assert c["respond"]["result"] == "met" and c["respond"]["elapsed_seconds"] == 20 * 60  # P2: 30 minutes

        t.move_to(local(2, 12))  # paused while the requester confirms
        c = clocks(db, key)["resolve"]
        assert (c["state"], c["elapsed_seconds"], c["due_at"]) == ("paused", 20 * 60, None)

        t.move_to(local(2, 14))
        do(db, IVAN, key, "confirm", {"user_confirmed": False, "feedback": "still broken"})  # reopened
        t.move_to(local(2, 14, 30))
        c = clocks(db, key)["resolve"]
        assert c["state"] == "running" and c["elapsed_seconds"] == 50 * 60  # 20 + 30 minutes, not 30
        # 8h target: 7h10m left from 14:30 -> 17:00 today (2h30) + 4h40 tomorrow -> Tuesday 13:40
        assert c["due_at"] == local(3, 13, 40).isoformat()

        t.move_to(local(2, 15))
        do(db, ALICE, key, "restore_first_line", {"resolution": "moved the mailbox", "resolved_first_line": True})
        t.move_to(local(3, 10))
        do(db, IVAN, key, "confirm", {"user_confirmed": True})
        c = clocks(db, key)
    assert c["respond"]["elapsed_seconds"] == 20 * 60  # the reopening did not restart the response clock
    resolve = c["resolve"]
    assert resolve["elapsed_seconds"] == 80 * 60 and resolve["result"] == "met"
    assert [(p["from"], p["to"]) for p in resolve["pauses"]] == [
        (local(2, 10, 20).isoformat(), local(2, 14).isoformat()), (local(2, 15).isoformat(), local(3, 10).isoformat())]
    assert [(s["from"], s["to"]) for s in resolve["segments"]] == [
        (local(2, 10).isoformat(), local(2, 10, 20).isoformat()), (local(2, 14).isoformat(), local(2, 15).isoformat())]


def test_a_record_raised_at_night_starts_counting_when_the_desk_opens(db: Database) -> None:
    with time_machine.travel(local(3, 22), tick=False) as t:  # Tuesday 22:00
        key = raise_record(db, "high", "high")
        do(db, ALICE, key, "record", {**RECORD, "query_type": "incident", "impact": "high", "urgency": "high"})
        c = clocks(db, key)
        assert c["respond"]["target"] == "PT15M" and c["respond"]["elapsed_seconds"] == 0  # P1
        assert c["respond"]["due_at"] == local(4, 9, 15).isoformat()  # Wednesday 09:15
        t.move_to(local(4, 9, 10))
        assert clocks(db, key)["respond"]["elapsed_seconds"] == 10 * 60
        t.shift(timedelta(minutes=10))
        assert clocks(db, key)["respond"]["breached"] is True


# --- the worker: near-breach, breach and escalation levels without anyone clicking ---------------------------
def sla_events(db: Database, key: str) -> list[tuple[str, str, Any]]:
    found = [e for e in events(db, key) if e["type"].startswith("sla.")]
    return [(e["type"], e["data"]["clock"], e["data"].get("level")) for e in found]


def told(db: Database, kind: str) -> list[tuple[str, str]]:
    with unit_of_work(db) as uow:
        rows = uow.session.execute(select(Notification.username, Notification.subject)
                                   .where(Notification.kind == kind).order_by(Notification.id)).all()
    return [(r[0], r[1]) for r in rows]


def test_the_worker_records_breaches_and_walks_the_escalation_levels(db: Database) -> None:
    users.seed_demo_users(db)
    with time_machine.travel(local(2, 10), tick=False) as t:  # Monday 10:00, P2: respond 30 min, resolve 8 h
        key = raise_record(db, "high", "medium")
        do(db, ALICE, key, "record", {**RECORD, "query_type": "incident", "impact": "high", "urgency": "medium"})
        t.move_to(local(2, 10, 20))
        timers.run_worker(db, once=True)
        assert sla_events(db, key) == []
        t.move_to(local(2, 10, 25))  # 75 % of 30 minutes passed at 10:22:30
        timers.run_worker(db, once=True)
        assert sla_events(db, key) == [("sla.near_breach", "respond", None)]
        t.move_to(local(2, 10, 31))
        timers.run_worker(db, once=True)
        timers.run_worker(db, once=True)  # a second round records nothing twice
        assert sla_events(db, key)[1:] == [("sla.breached", "respond", None), ("sla.escalated", "respond", 1)]
        breach = [e for e in events(db, key) if e["type"] == "sla.breached"][0]
        assert breach["data"]["crossed_at"] == local(2, 10, 30).isoformat() and breach["actor"] == "system"
        assert [who for who, _ in told(db, "sla_escalated")] == ["alice"]  # level 1: the service desk

        t.move_to(local(2, 16, 1))  # 200 % of respond at 11:00; 75 % of resolve (6 open hours) at 16:00
        timers.run_worker(db, once=True)
        assert sla_events(db, key)[3:] == [("sla.escalated", "respond", 2), ("sla.near_breach", "resolve", None),
                                           ("sla.escalated", "resolve", 1)]
        assert [who for who, _ in told(db, "sla_escalated")] == ["alice", "grace"]  # level 2: the process owner
        # resolve level 1 warns the resolvers (the desk's warning is the old per-task due time of its own task)
        assert [who for who, subject in told(db, "sla_warning") if "the resolve target" in subject] == ["bob"]
        level2 = [e for e in events(db, key) if e["type"] == "sla.escalated"][1]["data"]
        assert (level2["role"], level2["at_percent"], level2["crossed_at"]) == ("process_owner", 200,
                                                                                local(2, 11).isoformat())

        do(db, ALICE, key, "restore_first_line", {"resolution": "restarted", "resolved_first_line": True})
        t.move_to(local(4, 16))  # paused while the requester confirms: no resolve breach however long it waits
        timers.run_worker(db, once=True)
        assert ("sla.breached", "resolve", None) not in sla_events(db, key)
