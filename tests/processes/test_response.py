"""Scenarios of processes/response: one process for incidents, requests and problems (ITSM.express, Respond).

Each test drives the real diagram through the engine services the way the roles would: claim, fill in the form,
complete. Timers move with time-machine; the change side is a stub process (or a posted message) unless the
test says it uses the real processes/change."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from engine.db.database import Database
from engine.errors import NotAllowed
from engine.services import instances, tasks, timers
from tests.conftest import ALICE, BOB, CAROL, IVAN
from tests.processes.response_support import (
    T0,
    confirm_and_close,
    fix_root_cause,
    flows,
    matched_rules,
    new_record,
    open_ids,
    started_from,
)
from tests.support import deploy_process, do, events, instance, task_for


@pytest.fixture
def db(scenario_db: Database) -> Database:
    deploy_process(scenario_db, "response")
    return scenario_db


# --- record, classify, prioritise ----------------------------------------------------------------------------
def test_incident_restored_at_first_line_is_prioritised_and_closed(db: Database) -> None:
    key = new_record(db, impact="high", urgency="medium")
    assert key.startswith("INC-")
    data = instance(db, key)["data"]
    assert (data["priority"], data["respond_target"], data["resolve_target"]) == ("P2", "PT30M", "PT8H")
    assert matched_rules(db, key, "prioritise") == [["priority_r2"]]
    assert matched_rules(db, key, "set_sla") == [["sla_p2"]]
    assert open_ids(db, key) == ["restore_first_line"]
    assert task_for(db, key, "restore_first_line")["priority"] == "P2"

    do(db, ALICE, key, "restore_first_line", {"resolution": "restarted the mail relay", "resolved_first_line": True})
    assert task_for(db, key, "confirm")["assignee"] == "ivan"  # the user who reported it confirms
    result = confirm_and_close(db, key, material=False)

    assert result["instance"]["status"] == "completed"
    data = instance(db, key)["data"]
    assert data["resolved_first_line"] is True and data["user_confirmed"] is True
    assert data["material_impact"] is False and data["closure_note"] == "closed with the user"
    assert "flow_not_material" in flows(db, key) and "flow_no_trend" in flows(db, key)
    assert started_from(db, key) == []


def test_the_record_form_is_validated_on_the_server(db: Database) -> None:
    from engine.errors import ValidationFailed

    key = instances.start(db, IVAN, "response", {}).business_key
    task = task_for(db, key, "record")
    tasks.claim(db, ALICE, task["id"])
    with pytest.raises(ValidationFailed) as failed:
        tasks.complete(db, ALICE, task["id"], {"summary": "x", "query_type": "complaint", "impact": "high"})
    assert set(failed.value.details["fields"]) >= {"service", "reporter", "query_type", "urgency"}


# --- service restoration -------------------------------------------------------------------------------------
def test_incident_escalated_then_reopened_when_the_user_is_not_satisfied(db: Database) -> None:
    deploy_process(db, "improvement")
    key = new_record(db, impact="medium", urgency="medium")
    assert instance(db, key)["data"]["priority"] == "P3"

    do(db, ALICE, key, "restore_first_line", {"resolution": "cleared the queue", "resolved_first_line": False})
    assert open_ids(db, key) == ["restore"]
    with pytest.raises(NotAllowed):
        tasks.claim(db, ALICE, task_for(db, key, "restore")["id"])  # a resolver's task
    do(db, BOB, key, "restore", {"resolution": "rebuilt the index"})
    do(db, IVAN, key, "confirm", {"user_confirmed": False, "feedback": "still slow"})

    # reopened: handled again from the first line
    assert open_ids(db, key) == ["restore_first_line"]
    do(db, ALICE, key, "restore_first_line", {"resolution": "moved the mailbox", "resolved_first_line": True})
    result = confirm_and_close(db, key, material=False, trend_noted=True,
                               opportunity="Mailbox size alerts before users notice")

    assert result["instance"]["status"] == "completed"
    taken = flows(db, key)
    assert taken.count("flow_type_incident") == 2 and "flow_not_confirmed" in taken and "flow_trend" in taken
    # the trend went to continual improvement as a new item, linked to this record
    (item,) = started_from(db, key)
    assert item["process"] == "improvement" and item["business_key"].startswith("IMP-")
    assert item["data"]["opportunity"] == "Mailbox size alerts before users notice"
    assert open_ids(db, item["business_key"]) == ["identify"]


# --- provide information -------------------------------------------------------------------------------------
def test_question_answered_from_the_standard_answers(db: Database) -> None:
    key = new_record(db, query_type="information", impact="low", urgency="low")
    assert key.startswith("REQ-")
    assert instance(db, key)["data"]["priority"] == "P4"
    do(db, ALICE, key, "provide_information", {"answer": "See FAQ 12: shared mailboxes", "answered": True})
    result = confirm_and_close(db, key)
    assert result["instance"]["status"] == "completed"
    assert "flow_answered" in flows(db, key) and "flow_not_incident" in flows(db, key)
    assert "material_impact" not in instance(db, key)["data"]  # only incidents are judged for root cause


def test_question_without_a_standard_answer_is_referred(db: Database) -> None:
    key = new_record(db, query_type="information")
    do(db, ALICE, key, "provide_information", {"answered": False})
    assert open_ids(db, key) == ["refer_question"]
    do(db, BOB, key, "refer_question", {"answer": "Retention is 7 years for finance mail"})
    result = confirm_and_close(db, key)
    assert result["instance"]["status"] == "completed"
    assert instance(db, key)["data"]["answer"] == "Retention is 7 years for finance mail"


# --- service entitlements ------------------------------------------------------------------------------------
def test_entitlement_validated_and_granted_at_the_desk(db: Database) -> None:
    key = new_record(db, query_type="entitlement", impact="low", urgency="high")
    assert key.startswith("REQ-") and instance(db, key)["data"]["priority"] == "P3"
    do(db, ALICE, key, "validate_entitlement", {"entitlement_outcome": "granted",
                                                "fulfilment_note": "added to the finance share"})
    result = confirm_and_close(db, key)
    assert result["instance"]["status"] == "completed"
    assert "flow_entitlement_done" in flows(db, key)


def test_entitlement_escalated_to_someone_senior(db: Database) -> None:
    key = new_record(db, query_type="entitlement")
    do(db, ALICE, key, "validate_entitlement", {"entitlement_outcome": "escalate"})
    task = task_for(db, key, "decide_entitlement")
    assert sorted(task["roles"]) == ["change_manager", "resolver"]
    with pytest.raises(NotAllowed):
        tasks.claim(db, IVAN, task["id"])
    do(db, CAROL, key, "decide_entitlement", {"entitlement_outcome": "refused", "fulfilment_note": "not in policy"})
    result = confirm_and_close(db, key)
    assert result["instance"]["status"] == "completed"
    assert instance(db, key)["data"]["entitlement_outcome"] == "refused"


# --- SLA: escalate to the duty manager, never cancel the work --------------------------------------------------
def test_response_target_escalates_after_it_passes_and_not_before(db: Database) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        key = new_record(db, impact="high", urgency="high")
        assert instance(db, key)["data"]["respond_target"] == "PT15M"
        assert task_for(db, key, "restore_first_line")["due_at"] == (T0 + timedelta(minutes=15)).isoformat()

        clock.shift(timedelta(minutes=14))
        timers.fire_due(db)
        assert open_ids(db, key) == ["restore_first_line"]
        assert events(db, key, "timer.fired") == []

        clock.shift(timedelta(minutes=2))
        timers.fire_due(db)
        assert open_ids(db, key) == ["escalate_response", "restore_first_line"]  # the work goes on
        (fired,) = events(db, key, "timer.fired")
        assert fired["element_id"] == "respond_timer_incident" and fired["data"]["interrupting"] is False

        # the desk restores the service while the duty manager still has the escalation
        do(db, ALICE, key, "restore_first_line", {"resolution": "rerouted", "resolved_first_line": True})
        do(db, IVAN, key, "confirm", {"user_confirmed": True})
        do(db, ALICE, key, "assess_impact", {"material_impact": False})
        assert open_ids(db, key) == ["analyse_root_cause", "escalate_response"]  # P1: the root_cause table binds
        fix_root_cause(db, key)
        do(db, ALICE, key, "close", {"closure_note": "restored late"})
        assert instance(db, key)["status"] != "completed"
        assert open_ids(db, key) == ["escalate_response"]
        result = do(db, ALICE, key, "escalate_response", {"escalation_note": "extra staff on the desk"})

    assert result["instance"]["status"] == "completed"
    data = instance(db, key)["data"]
    assert data["escalation_note"] == "extra staff on the desk"
    assert data["closure_note"] == "restored late"  # the main line's data survives the escalation branch


def test_a_late_task_stays_overdue_after_the_escalation(db: Database) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        key = new_record(db, impact="high", urgency="high")
        clock.shift(timedelta(minutes=16))
        timers.fire_due(db)
        late = task_for(db, key, "restore_first_line")
        assert late["due_at"] == (T0 + timedelta(minutes=15)).isoformat() and late["overdue"] is True


@pytest.mark.parametrize(("query_type", "task", "timer"), [
    ("information", "provide_information", "respond_timer_information"),
    ("entitlement", "validate_entitlement", "respond_timer_entitlement"),
])
def test_response_target_on_requests(db: Database, query_type: str, task: str, timer: str) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        key = new_record(db, query_type=query_type, impact="medium", urgency="medium")  # P3: respond in 2 hours
        clock.shift(timedelta(hours=1, minutes=59))
        timers.fire_due(db)
        assert open_ids(db, key) == [task]
        clock.shift(timedelta(minutes=2))
        timers.fire_due(db)
        assert open_ids(db, key) == sorted(["escalate_response", task])
        assert [e["element_id"] for e in events(db, key, "timer.fired")] == [timer]
        do(db, ALICE, key, "escalate_response", {"escalation_note": "called the user back"})
        assert open_ids(db, key) == [task]


def test_resolution_target_escalates_while_the_resolver_works(db: Database) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        key = new_record(db, impact="high", urgency="high")  # P1: respond 15 minutes, resolve 4 hours
        clock.shift(timedelta(minutes=5))
        do(db, ALICE, key, "restore_first_line", {"resolution": "no luck", "resolved_first_line": False})

        clock.shift(timedelta(hours=3, minutes=59))  # the response timer went with the first-line task
        timers.fire_due(db)
        assert open_ids(db, key) == ["restore"]

        clock.shift(timedelta(minutes=2))
        timers.fire_due(db)
        assert open_ids(db, key) == ["escalate_resolution", "restore"]
        assert [e["element_id"] for e in events(db, key, "timer.fired")] == ["resolve_timer"]

        do(db, ALICE, key, "escalate_resolution", {"escalation_note": "vendor called in"})
        do(db, BOB, key, "restore", {"resolution": "vendor replaced the disk"})
        do(db, IVAN, key, "confirm", {"user_confirmed": True})
        do(db, ALICE, key, "assess_impact", {"material_impact": False})
        fix_root_cause(db, key)  # P1: a root cause before closure, whatever the desk answered
        result = do(db, ALICE, key, "close", {"closure_note": "vendor fixed it"})
    assert result["instance"]["status"] == "completed"
