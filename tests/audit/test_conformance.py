"""Conformance: every deviation injected (by an admin act, a modelling slip or a direct database write) is named by
the report; a clean set of scenarios reports none."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import text

from engine.db.database import Database, unit_of_work
from engine.services import admin, audit, conformance, instances, timers, users
from engine.services.actors import Actor
from engine.services.audit import NewEvent
from tests.audit.diagrams import BIG, CRITICAL, SAM, SMALL, STANDARD, deploy_change
from tests.audit.replay import Auto, run_both, tables_in
from tests.audit.test_path_replay import SMALL_CHANGE
from tests.conftest import ADMIN, ALICE, CAROL, CORA, DAVE, ERIN, IVAN
from tests.support import PROCESSES, deploy_process, do, instance, task_for


def _report(db: Database, **kw: object) -> list[conformance.Deviation]:
    with unit_of_work(db) as uow:
        return conformance.report(uow, **kw)  # type: ignore[arg-type]


def _start(db: Database, fields: dict, starter: Actor = IVAN, process: str = "chg") -> str:
    key = instances.start(db, starter, process, {}).business_key
    do(db, ALICE, key, "register", fields)
    return key


def _finish(db: Database, key: str) -> None:
    do(db, ERIN, key, "implement")


def _forge(db: Database, key: str, event: NewEvent, status: str | None = None) -> None:
    """A direct database write: events appended as a rogue script would (the chain stays valid)."""
    with unit_of_work(db) as uow:
        inst = instances.find(uow, ADMIN, key)
        event.instance_id = inst.id
        if status:
            uow.session.execute(text("UPDATE process_instance SET status = :s WHERE id = :i"),
                                {"s": status, "i": inst.id})
        audit.append(uow, [event])
        uow.commit()


def _clean_set(db: Database) -> list[str]:
    deploy_change(db)
    keys = []
    key = _start(db, SMALL)
    do(db, CAROL, key, "approve_manager", {"approved": True})
    _finish(db, key)
    keys.append(key)
    key = _start(db, BIG)
    do(db, DAVE, key, "approve_cab", {"approved": True})
    _finish(db, key)
    keys.append(key)
    key = _start(db, STANDARD)  # pre-approved: no approval task, none needed
    _finish(db, key)
    keys.append(key)
    key = _start(db, CRITICAL)
    do(db, SAM, key, "approve_sponsor", {"approved": False})
    keys.append(key)
    base = datetime.now(UTC)
    with time_machine.travel(base, tick=False):
        key = _start(db, SMALL)
        do(db, CAROL, key, "approve_manager", {"approved": True})
    with time_machine.travel(base + timedelta(hours=5), tick=False):
        timers.fire_due(db)  # late, and escalated: conforms
        _finish(db, key)
        do(db, CAROL, key, "escalate")
    keys.append(key)
    return keys


def test_a_clean_set_of_scenarios_reports_nothing(db: Database) -> None:
    keys = _clean_set(db)
    deploy_process(db, "response")
    run_both(db, (PROCESSES / "response" / "response.bpmn").read_bytes(), "response", {},
             [Auto(steps=25, choices={"query_type": "incident", "user_confirmed": True, "trend_noted": False})],
             tables=tables_in(PROCESSES / "response"))
    assert [instance(db, k)["status"] for k in keys] == ["completed"] * 5
    deploy_process(db, "change")
    for choices in (SMALL_CHANGE, {**SMALL_CHANGE, "estimated_hours": 40, "approved": False,
                                   "requester_decision": "withdraw"}):
        run_both(db, (PROCESSES / "change" / "change.bpmn").read_bytes(), "change", {"title": "VPN"},
                 [Auto(steps=25, choices=choices)], tables=tables_in(PROCESSES / "change"), starter=CORA)
    assert _report(db) == []


def test_the_shipped_change_process_approved_by_the_wrong_role(db: Database) -> None:
    users.seed_demo_users(db)
    deploy_process(db, "change")
    _, key = run_both(db, (PROCESSES / "change" / "change.bpmn").read_bytes(), "change", {"title": "VPN"},
                      [Auto(choices=SMALL_CHANGE, until="approve_it_manager")],
                      tables=tables_in(PROCESSES / "change"), starter=CORA)
    admin.reassign_task(db, ADMIN, task_for(db, key, "approve_it_manager")["id"], "erin", "carol is away")
    do(db, ERIN, key, "approve_it_manager", {"approved": True}, claim=False)
    found = _report(db, process="change")
    wrong = _one(found, "wrong_approver", key)
    assert wrong.details["approver"] == "it_manager" and wrong.details["expected_roles"] == ["change_manager"]


def _one(found: list[conformance.Deviation], rule: str, key: str) -> conformance.Deviation:
    hits = [d for d in found if d.rule == rule and d.business_key == key]
    assert len(hits) == 1, [d.to_dict() for d in found]
    return hits[0]


def test_approval_by_a_user_an_admin_handed_it_to_is_the_wrong_approver(db: Database) -> None:
    deploy_change(db)
    users.seed_demo_users(db)
    key = _start(db, BIG)  # the table demands the CAB
    task = task_for(db, key, "approve_cab")
    admin.reassign_task(db, ADMIN, task["id"], "carol", "CAB chair on leave")
    do(db, CAROL, key, "approve_cab", {"approved": True}, claim=False)
    _finish(db, key)
    found = _report(db)
    wrong = _one(found, "wrong_approver", key)
    assert wrong.actor == "carol" and wrong.element_id == "approve_cab" and "cab" in wrong.message
    assert wrong.details["expected_roles"] == ["cab"]
    assert {d.rule for d in found} == {"wrong_approver"}


def test_a_model_routing_to_the_wrong_approval_is_found(db: Database) -> None:
    deploy_change(db, "chg_bad", manager_route="cab")  # it_manager changes fall through to the CAB task
    key = _start(db, SMALL, process="chg_bad")
    do(db, DAVE, key, "approve_cab", {"approved": True})
    wrong = _one(_report(db, process="chg_bad"), "wrong_approver", key)
    assert "task for cab" in wrong.message and wrong.details["approver"] == "it_manager"


def test_requester_approving_their_own_change(db: Database) -> None:
    deploy_change(db)
    ivan_cab = Actor("ivan", frozenset({"cab", "requester"}))
    key = _start(db, BIG, starter=ivan_cab)
    with unit_of_work(db) as uow:  # a direct write hides the requester from the service's own check
        uow.session.execute(text("UPDATE process_instance SET started_by = 'someone' WHERE business_key = :k"),
                            {"k": key})
        uow.session.execute(text("DELETE FROM record_party WHERE instance_id = "
                                 "(SELECT id FROM process_instance WHERE business_key = :k)"), {"k": key})
        uow.commit()
    do(db, ivan_cab, key, "approve_cab", {"approved": True})
    found = _one(_report(db), "self_approval", key)
    assert found.actor == "ivan" and "ivan" in found.details["requesters"]


def test_task_completed_that_was_never_made_ready(db: Database) -> None:
    deploy_change(db)
    key = _start(db, SMALL)
    _forge(db, key, NewEvent("task.completed", "mallory", element_id="approve_manager",
                             data={"task_id": "forged-id", "form": {"approved": True}, "approval": True}))
    found = _one(_report(db), "task_not_made_ready", key)
    assert found.actor == "mallory" and "forged-id" in found.message


def test_task_completed_on_an_element_that_is_no_human_task(db: Database) -> None:
    deploy_change(db)
    key = _start(db, SMALL)
    _forge(db, key, NewEvent("task.ready", "system", element_id="rights", data={"task_id": "t1"}))
    _forge(db, key, NewEvent("task.completed", "mallory", element_id="rights", data={"task_id": "t1"}))
    assert "not a human task" in _one(_report(db), "task_not_made_ready", key).message


def test_skipped_approval_by_the_model(db: Database) -> None:
    deploy_change(db)
    key = _start(db, SMALL)
    _forge(db, key, NewEvent("element.completed", "system", element_id="decided", data={"kind": "exclusiveGateway"}))
    found = _one(_report(db), "approval_skipped", key)
    assert found.element_id == "decided" and "approve_manager" in found.message


def test_completed_without_the_approval_the_decision_demanded(db: Database) -> None:
    deploy_change(db)
    key = _start(db, BIG)
    _forge(db, key, NewEvent("instance.completed", "mallory", data={"business_key": key}), status="completed")
    found = _one(_report(db), "approval_skipped", key)
    assert found.details["approver"] == "cab" and found.actor == "mallory"


def test_sla_breach_without_escalation(db: Database) -> None:
    deploy_change(db)
    base = datetime.now(UTC)
    with time_machine.travel(base, tick=False):
        key = _start(db, STANDARD)
    with time_machine.travel(base + timedelta(hours=5), tick=False):
        _finish(db, key)  # the worker was down: the SLA timer never fired
    found = _one(_report(db), "sla_breach_unescalated", key)
    assert found.element_id == "implement" and found.details["timers"] == ["sla"]


def test_data_edited_by_an_administrator(db: Database) -> None:
    deploy_change(db)
    key = _start(db, BIG)
    admin.edit_data(db, ADMIN, key, {"estimated_hours": 3}, "typo in the estimate")
    found = _one(_report(db), "data_edited", key)
    assert found.actor == "admin" and found.details == {"keys": ["estimated_hours"],
                                                        "reason": "typo in the estimate"}


def test_filters_by_process_and_time(db: Database) -> None:
    deploy_change(db)
    key = _start(db, BIG)
    admin.edit_data(db, ADMIN, key, {"estimated_hours": 3}, "typo")
    assert _report(db, process="response") == []
    assert len(_report(db, process="chg")) == 1
    later = datetime.now(UTC) + timedelta(days=1)
    assert _report(db, start=later) == []
    assert len(_report(db, end=later)) == 1


@pytest.mark.parametrize("rule", sorted(conformance.RULES))
def test_every_rule_is_documented(rule: str) -> None:
    from tests.support import ROOT

    assert f"`{rule}`" in (ROOT / "docs" / "audit.md").read_text()


def test_deviation_serialises(db: Database) -> None:
    deploy_change(db)
    key = _start(db, BIG)
    admin.edit_data(db, ADMIN, key, {"estimated_hours": 3}, "typo")
    found = _report(db)
    as_json = json.loads(json.dumps([d.to_dict() for d in found]))
    assert as_json[0]["rule"] == "data_edited" and as_json[0]["business_key"] == key
    assert "data_edited" in conformance.table(found)
