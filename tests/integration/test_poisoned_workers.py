"""Poisoned instances next to healthy timers: every healthy timer fires, each poisoned instance is shown in
error with its reason, and the worker loop never stops (issue 11, finding 1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from engine.db.database import Database, unit_of_work
from engine.db.models import ProcessInstance
from engine.errors import DomainError
from engine.services import instances, timers
from tests.bpmn_snippets import chain, script_task
from tests.conftest import IVAN
from tests.support import data, deploy_xml, events, instance, task_ids

TIMER = ('<bpmn:intermediateCatchEvent id="n0"><bpmn:timerEventDefinition><bpmn:{kind}>{value}'
         '</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
WORK = '<bpmn:userTask id="n2" name="Follow up" camunda:candidateGroups="service_desk" {attrs}/>'


def _timed(key: str, script: str, kind: str = "timeDuration", value: str = "PT1M", attrs: str = "") -> str:
    return chain(key, [TIMER.format(kind=kind, value=value), script_task(1, script), WORK.format(attrs=attrs)])


def _later(**delta: float):  # type: ignore[no-untyped-def]
    return time_machine.travel(datetime.now(UTC) + timedelta(**delta), tick=False)


def _start(db: Database, key: str, n: int = 1, start_data: dict | None = None) -> list[str]:  # type: ignore[type-arg]
    return [instances.start(db, IVAN, key, dict(start_data or {})).business_key for _ in range(n)]


def _error_events(db: Database, key: str) -> list[dict]:  # type: ignore[type-arg]
    return events(db, key, "instance.errored")


def test_poison_pills_next_to_healthy_timers(db: Database) -> None:
    deploy_xml(db, _timed("healthy", "fired = True"))
    deploy_xml(db, _timed("bignum", "n = 5000\nx = 10 ** n"))
    deploy_xml(db, _timed("nested", "i = 0\nx = []\nwhile i < 60000:\n    x = [x]\n    i += 1"))
    deploy_xml(db, _timed("quits", "raise SystemExit(0)"))
    deploy_xml(db, _timed("interrupts", "raise KeyboardInterrupt()"))
    healthy = _start(db, "healthy", 3)
    poisoned = {"bignum": _start(db, "bignum")[0], "nested": _start(db, "nested")[0], "quits": _start(db, "quits")[0],
                "interrupts": _start(db, "interrupts")[0]}
    with _later(minutes=2):
        timers.run_worker(db, once=True)  # returns: nothing a script does ends the worker
        assert timers.status(db)["due_timers"] == 0
    for key in healthy:
        assert task_ids(db, key) == ["n2"] and data(db, key)["fired"] is True
    reasons = {"bignum": "past the limit", "nested": "cannot be saved", "quits": "SystemExit",
               "interrupts": "KeyboardInterrupt"}
    for process, key in poisoned.items():
        view = instance(db, key)
        assert view["status"] == "error", process
        assert reasons[process] in view["error"]["message"] and view["error"]["element_id"] == "n1"
        trail = _error_events(db, key)
        assert trail and reasons[process] in trail[-1]["data"]["message"]


def test_a_step_failing_in_the_host_errors_that_instance_and_backs_off(db: Database) -> None:
    # The next repetition of this cycle lies past year 9999: computing it fails outside the engine's own
    # error handling, in the middle of the timer step.
    deploy_xml(db, _timed("overflow", "fired = True", kind="timeCycle", value="R3/P4000Y"))
    deploy_xml(db, _timed("healthy", "fired = True", value="P3999Y"))
    bad, good = _start(db, "overflow")[0], _start(db, "healthy")[0]
    with _later(days=365 * 4003):
        timers.run_worker(db, once=True)
        view = instance(db, bad)
        assert view["status"] == "error"
        err = view["error"]
        assert err["source"] == "worker" and err["attempts"] == 1 and "OverflowError" in err["message"]
        assert "OverflowError" in _error_events(db, bad)[-1]["data"]["message"]
        retry_at = datetime.fromisoformat(err["retry_at"])
        assert timedelta(seconds=25) < retry_at - datetime.now(UTC) <= timedelta(seconds=30)
        timers.run_worker(db, once=True)  # not due again before its back-off
        assert instance(db, bad)["error"]["attempts"] == 1
    assert task_ids(db, good) == ["n2"]  # the healthy one fired in the same round
    with _later(days=365 * 4003, seconds=40):
        timers.run_worker(db, once=True)
        err = instance(db, bad)["error"]
        assert err["attempts"] == 2  # tried again, failed again: the pause doubles
        assert timedelta(seconds=55) < datetime.fromisoformat(err["retry_at"]) - datetime.now(UTC) <= timedelta(
            seconds=60)
    assert len(_error_events(db, bad)) == 2


def test_an_engine_error_is_not_retried_by_the_worker(db: Database) -> None:
    deploy_xml(db, _timed("fails", "x = 1 / 0"))
    key = _start(db, "fails")[0]
    with _later(minutes=2):
        timers.run_worker(db, once=True)
        timers.run_worker(db, once=True)
    assert instance(db, key)["status"] == "error"
    assert len(_error_events(db, key)) == 1
    with unit_of_work(db) as uow:
        row = uow.session.execute(select(ProcessInstance).where(ProcessInstance.business_key == key)).scalar_one()
        assert row.next_wakeup_at is None and json.loads(row.error_json)["element_id"] == "n1"


def test_names_longer_than_the_database_keeps_are_refused_at_deploy(db: Database) -> None:
    long_name = "Clarify " * 30
    with pytest.raises(DomainError) as refused:
        deploy_xml(db, chain("longname", [f'<bpmn:userTask id="n0" name="{long_name}" '
                                          'camunda:candidateGroups="service_desk"/>']))
    problems = refused.value.details["problems"]
    assert problems[0]["element_id"] == "n0" and "at most 200" in problems[0]["message"]


def test_a_value_the_database_refuses_errors_only_that_instance(pg_db: Database) -> None:
    """On PostgreSQL an assignee taken from the data is written to an 80-character column."""
    db = pg_db
    deploy_xml(db, _timed("assigned", "fired = True", attrs='camunda:assignee="${who}"'))
    deploy_xml(db, _timed("healthy", "fired = True"))
    bad = _start(db, "assigned", start_data={"who": "x" * 300})[0]
    good = _start(db, "healthy", 2)
    with _later(minutes=2):
        timers.run_worker(db, once=True)
    view = instance(db, bad)
    assert view["status"] == "error" and "StringDataRightTruncation" in view["error"]["message"]
    assert all(task_ids(db, key) == ["n2"] for key in good)
