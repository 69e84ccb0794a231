"""Scenarios of processes/improvement: continual improvement (ITSM.express, Provide / Improve). The process owner
owns the item; a technical support group implements; the service desk monitors and measures."""

from __future__ import annotations

import pytest

from engine.db.database import Database, unit_of_work
from engine.errors import NotAllowed
from engine.services import instances, messages, tasks
from tests.conftest import ADMIN, ALICE, BOB, GRACE, HEIDI, IVAN
from tests.support import deploy_process, do, instance, open_tasks, task_for

OBJECTIVES = {"objective": "Fewer password-reset calls", "metric": "password-reset calls per week",
              "target": "under 20 a week"}


def flows(db: Database, key: str) -> list[str]:
    with unit_of_work(db) as uow:
        return instances.path(uow, instances.find(uow, HEIDI, key))["flows"]


def open_ids(db: Database, key: str) -> list[str]:
    return [t["element_id"] for t in open_tasks(db, key)]


def through_planning(db: Database, key: str) -> None:
    do(db, GRACE, key, "identify", {"opportunity": "Users cannot reset their own password",
                                    "source": "metrics"})
    do(db, GRACE, key, "understand", {"baseline": "85 password-reset calls a week (Q1 average)"})
    do(db, GRACE, key, "set_objectives", OBJECTIVES)
    do(db, GRACE, key, "plan_improvement", {"plan": "self-service reset portal by May; desk trained; R. Ade"})


def implement_and_measure(db: Database, key: str, result: str) -> None:
    do(db, BOB, key, "implement", {"implementation_note": "portal live"})
    do(db, ALICE, key, "monitor", {"result": result})


@pytest.fixture
def db(scenario_db: Database) -> Database:
    deploy_process(scenario_db, "improvement")
    return scenario_db


def test_improvement_reaches_its_target_first_time(db: Database) -> None:
    key = instances.start(db, IVAN, "improvement", {}).business_key  # anyone may raise an opportunity
    assert key.startswith("IMP-")
    with pytest.raises(NotAllowed):
        tasks.claim(db, IVAN, task_for(db, key, "identify")["id"])  # the process owner owns the item
    through_planning(db, key)
    assert open_ids(db, key) == ["implement"]
    implement_and_measure(db, key, "14 calls a week")
    do(db, GRACE, key, "review", {"target_met": True, "review_note": "target reached in week 3"})
    result = do(db, GRACE, key, "close", {"closure_note": "from 85 to 14 calls a week"})

    assert result["instance"]["status"] == "completed"
    data = instance(db, key)["data"]
    for field in ("opportunity", "source", "baseline", "objective", "metric", "target", "plan", "result"):
        assert data[field], field
    assert data["target_met"] is True and data["result"] == "14 calls a week"


def test_target_not_met_adjusts_the_implementation_then_the_plan(db: Database) -> None:
    key = instances.start(db, GRACE, "improvement", {}).business_key
    through_planning(db, key)
    implement_and_measure(db, key, "60 calls a week")

    do(db, GRACE, key, "review", {"target_met": False, "replan": False, "review_note": "portal link hard to find"})
    assert open_ids(db, key) == ["implement"]
    implement_and_measure(db, key, "41 calls a week")

    do(db, GRACE, key, "review", {"target_met": False, "replan": True, "review_note": "needs MFA enrolment first"})
    assert open_ids(db, key) == ["plan_improvement"]
    do(db, GRACE, key, "plan_improvement", {"plan": "MFA enrolment drive, then portal"})
    implement_and_measure(db, key, "18 calls a week")
    do(db, GRACE, key, "review", {"target_met": True})
    result = do(db, GRACE, key, "close", {"closure_note": "target met after two adjustments"})

    assert result["instance"]["status"] == "completed"
    taken = flows(db, key)
    assert taken.count("flow_adjust") == 1 and taken.count("flow_replan") == 1
    assert taken.count("flow_implement_monitor") == 3
    assert instance(db, key)["data"]["result"] == "18 calls a week"


def test_an_opportunity_raised_by_message_starts_an_item(db: Database) -> None:
    routing = messages.post(db, ADMIN, "improvement.opened", None,
                            {"opportunity": "Change failure rate above 15 %", "source": "review"})
    (started,) = routing.started
    with unit_of_work(db) as uow:
        view = instances.view(uow, instances.find(uow, HEIDI, str(started)))
    assert view["business_key"].startswith("IMP-")
    assert view["data"]["opportunity"] == "Change failure rate above 15 %"
    assert [t["element_id"] for t in view["tasks"]] == ["identify"]
