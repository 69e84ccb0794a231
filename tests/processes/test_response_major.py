"""Major incidents in the response process: declared by the major_incident table or by the service desk, led by
a named major-incident manager, stakeholders updated each time the update timer fires (the worker fires it)
until the service is restored, and a post-incident review before closure that opens an improvement item."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from engine.db.database import Database, unit_of_work
from engine.services import conversation, instances, notifications, timers
from engine.services.actors import Actor
from tests.conftest import ALICE, BOB, CAROL, IVAN
from tests.processes.response_support import RECORD, T0, fix_root_cause, flows, matched_rules, open_ids, started_from
from tests.support import deploy_process, do, events, instance, task_for

MAJOR = [f"flow_{f}" for f in ("sla_major", "classify_gateway", "major", "assign_restore_major", "major_update",
                               "major_restored", "merge_pir", "pir", "pir_handover", "handover_improvement",
                               "pir_close")]


@pytest.fixture
def db(scenario_db: Database) -> Database:
    deploy_process(scenario_db, "response")
    deploy_process(scenario_db, "improvement")
    return scenario_db


def _updates(db: Database, who: Actor) -> list[str]:
    with unit_of_work(db) as uow:
        rows, _ = notifications.listing(uow, who, limit=50)
    return sorted(n["subject"] for n in rows if n["kind"] == "stakeholder_update")


def _record(db: Database, **extra: object) -> str:
    key = instances.start(db, IVAN, "response", {}).business_key
    do(db, ALICE, key, "record", {**RECORD, "query_type": "incident", "impact": "high", "urgency": "high", **extra})
    return key


def test_a_p1_affecting_many_users_runs_as_a_major_incident_until_its_review(db: Database) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        key = _record(db, users_affected=120)
        data = instance(db, key)["data"]
        assert (data["priority"], data["major_incident"], data["update_cycle"]) == ("P1", True, "R96/PT30M")
        assert matched_rules(db, key, "classify_major") == [["major_p1_many_users"]]
        assert open_ids(db, key) == ["assign_major_manager"]
        do(db, ALICE, key, "assign_major_manager", {"major_incident_manager": "bob", "stakeholders": "carol, dave"})
        assert task_for(db, key, "restore_major")["assignee"] == "bob"

        clock.shift(timedelta(minutes=29))
        timers.run_worker(db, once=True)
        assert _updates(db, CAROL) == []
        conversation.add_comment(db, BOB, key, "Relay replaced, mail queues draining", "public")
        clock.shift(timedelta(minutes=2))
        timers.run_worker(db, once=True)
        assert _updates(db, CAROL) == [f"[{key}] Update 1 on major incident {key}"]
        with unit_of_work(db) as uow:
            (note,) = [n for n in notifications.listing(uow, CAROL)[0] if n["kind"] == "stakeholder_update"]
        assert "Relay replaced" in note["body"] and "manager is bob" in note["body"]
        clock.shift(timedelta(minutes=30))
        timers.run_worker(db, once=True)
        assert len(_updates(db, Actor("dave", frozenset({"cab"})))) == 2
        assert len(_updates(db, IVAN)) == 2  # the reporter hears too

        do(db, BOB, key, "restore_major", {"resolution": "replaced the relay"})
        clock.shift(timedelta(hours=3))
        timers.run_worker(db, once=True)
        assert len(_updates(db, CAROL)) == 2  # restored: no more updates

        do(db, IVAN, key, "confirm", {"user_confirmed": True})
        do(db, ALICE, key, "assess_impact", {"material_impact": False})
        fix_root_cause(db, key)  # a P1: the root_cause table sends it to root-cause analysis first
        assert open_ids(db, key) == ["post_incident_review"]  # no closure before the review
        assert task_for(db, key, "post_incident_review")["assignee"] == "bob"
        do(db, BOB, key, "post_incident_review", {"pir_summary": "Relay failed at 9:00, restored 10:05",
                                                  "opportunity": "Monitor the relay's queue length"})
        (item,) = started_from(db, key)
        assert item["business_key"].startswith("IMP-")
        assert (item["data"]["opportunity"], item["data"]["source"]) == ("Monitor the relay's queue length", "review")
        done = do(db, ALICE, key, "close", {"closure_note": "reviewed and closed"})
        assert done["instance"]["status"] == "completed"
    taken = flows(db, key)
    assert [f for f in MAJOR if f not in taken] == []
    assert taken.count("flow_major_update") == 2 and "flow_not_major" not in taken
    assert len(events(db, key, "task.completed")) >= 6


def test_the_service_desk_declares_a_major_incident_itself(db: Database) -> None:
    key = _record(db, impact="low", urgency="low", declare_major=True)
    data = instance(db, key)["data"]
    assert (data["priority"], data["major_incident"], data["major_reason"]) == ("P4", True,
                                                                               "declared by the service desk")
    assert matched_rules(db, key, "classify_major") == [["major_declared"]]
    assert open_ids(db, key) == ["assign_major_manager"]


def test_an_ordinary_incident_is_not_major_and_closes_without_a_review(db: Database) -> None:
    key = _record(db, users_affected=3, urgency="medium")  # a P2: no root cause required either
    assert instance(db, key)["data"]["major_incident"] is False
    assert matched_rules(db, key, "classify_major") == [["major_not"]]
    assert open_ids(db, key) == ["restore_first_line"]
    do(db, ALICE, key, "restore_first_line", {"resolution": "restarted", "resolved_first_line": True})
    do(db, IVAN, key, "confirm", {"user_confirmed": True})
    do(db, ALICE, key, "assess_impact", {"material_impact": False})
    do(db, ALICE, key, "close", {})
    assert "flow_no_pir" in flows(db, key) and "flow_not_major" in flows(db, key)
