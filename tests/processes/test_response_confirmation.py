"""Scenarios of processes/response: a confirmation nobody answers (issue 12, scenario 10). The times come from
the organisation's table `confirmation` (by query type and priority): after `confirmation_wait` the
confirmation goes back to the service desk; after `close_unanswered_after` more the record closes by itself
without an answer (an incident still gets its impact assessment). Timers move with time-machine and fire as the
worker fires them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from engine.db.database import Database
from engine.errors import NotAllowed, ValidationFailed
from engine.services import tasks, timers
from tests.conftest import ALICE, IVAN
from tests.processes.response_support import T0, flows, matched_rules, new_record, open_ids
from tests.support import deploy_process, do, events, instance, task_for

MINUTE = timedelta(minutes=1)


@pytest.fixture
def db(scenario_db: Database) -> Database:
    deploy_process(scenario_db, "response")
    return scenario_db


def _fire(clock: time_machine.Coordinates, db: Database, after: timedelta) -> None:
    clock.shift(after)
    timers.fire_due(db)


def test_an_unanswered_request_goes_back_to_the_desk_then_closes_by_itself(db: Database) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        key = new_record(db, query_type="information", impact="low", urgency="low")
        do(db, ALICE, key, "provide_information", {"answer": "see the FAQ", "answered": True})
        assert open_ids(db, key) == ["confirm"] and task_for(db, key, "confirm")["assignee"] == "ivan"
        data = instance(db, key)["data"]
        assert (data["confirmation_wait"], data["close_unanswered_after"]) == ("P3D", "P5D")
        assert matched_rules(db, key, "set_confirmation") == [["confirmation_request"]]

        _fire(clock, db, timedelta(days=3) - MINUTE)
        assert open_ids(db, key) == ["confirm"]
        _fire(clock, db, 2 * MINUTE)
        assert open_ids(db, key) == ["chase_confirmation"]  # the reporter's task went back to the desk
        chase = task_for(db, key, "chase_confirmation")
        assert chase["roles"] == ["service_desk"] and chase["assignee"] is None
        with pytest.raises(NotAllowed):
            tasks.claim(db, IVAN, chase["id"])
        (fired,) = events(db, key, "timer.fired")
        assert (fired["element_id"], fired["data"]["interrupting"]) == ("confirm_unanswered", True)

        _fire(clock, db, timedelta(days=5) - MINUTE)  # five days after the desk got it, not after resolution
        assert open_ids(db, key) == ["chase_confirmation"]
        _fire(clock, db, 2 * MINUTE)

    final = instance(db, key)
    assert final["status"] == "completed"
    assert final["data"]["closed_without_answer"] is True and final["data"]["user_confirmed"] is None
    assert [e["element_id"] for e in events(db, key, "timer.fired")] == ["confirm_unanswered",
                                                                          "close_unanswered_timer"]
    taken = flows(db, key)
    assert {"flow_confirm_unanswered", "flow_unanswered_close", "flow_unanswered_closed"} <= set(taken)
    assert "flow_unanswered_incident" not in taken and "flow_confirmed" not in taken


def test_the_desk_records_the_answer_it_chased(db: Database) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        key = new_record(db, impact="high", urgency="medium")  # P2: chased after a day
        do(db, ALICE, key, "restore_first_line", {"resolution": "failed over", "resolved_first_line": True})
        assert matched_rules(db, key, "set_confirmation") == [["confirmation_urgent_incident"]]
        _fire(clock, db, timedelta(days=1) + MINUTE)
        assert open_ids(db, key) == ["chase_confirmation"]
        # a yes/no nobody gave is not read from silence
        chase = task_for(db, key, "chase_confirmation")
        tasks.claim(db, ALICE, chase["id"])
        with pytest.raises(ValidationFailed) as refused:
            tasks.complete(db, ALICE, chase["id"], {"feedback": "left a voicemail"})
        assert set(refused.value.details["fields"]) == {"user_confirmed"}
        tasks.complete(db, ALICE, chase["id"], {"user_confirmed": True, "feedback": "fine now, said on the phone"})
        assert open_ids(db, key) == ["assess_impact"]
        _fire(clock, db, timedelta(days=10))  # the closing timer went with the desk's task
        assert open_ids(db, key) == ["assess_impact"]
        do(db, ALICE, key, "assess_impact", {"material_impact": False})
        result = do(db, ALICE, key, "close", {"closure_note": "confirmed by phone"})

    assert result["instance"]["status"] == "completed"
    data = instance(db, key)["data"]
    assert data["user_confirmed"] is True and "closed_without_answer" not in data
    assert {"flow_chase_confirmed", "flow_confirmed"} <= set(flows(db, key))


def test_an_unanswered_incident_still_gets_its_impact_assessed(db: Database) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        key = new_record(db, impact="medium", urgency="medium")  # P3: chased after 2 days, closed 3 days later
        do(db, ALICE, key, "restore_first_line", {"resolution": "cleared the queue", "resolved_first_line": True})
        _fire(clock, db, timedelta(days=2) + MINUTE)
        _fire(clock, db, timedelta(days=3) + MINUTE)
        assert open_ids(db, key) == ["assess_impact"]  # closing an incident still asks for its impact
        assert instance(db, key)["data"]["closed_without_answer"] is True
        do(db, ALICE, key, "assess_impact", {"material_impact": False})
        result = do(db, ALICE, key, "close", {"closure_note": "no answer from the user"})
    assert result["instance"]["status"] == "completed"
    assert "flow_unanswered_incident" in flows(db, key)


def test_an_answer_in_time_stops_both_timers(db: Database) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        key = new_record(db, query_type="entitlement")
        do(db, ALICE, key, "validate_entitlement", {"entitlement_outcome": "granted"})
        _fire(clock, db, timedelta(days=2))
        do(db, IVAN, key, "confirm", {"user_confirmed": True})
        _fire(clock, db, timedelta(days=30))
        assert open_ids(db, key) == ["close"] and events(db, key, "timer.fired") == []
