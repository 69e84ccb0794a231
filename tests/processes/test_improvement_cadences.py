"""Governance cadences of processes/improvement: the monthly service review and the quarterly risk review start
as improvement items on their timers, by the worker alone, once per occurrence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from engine.db.database import Database, unit_of_work
from engine.db.models import ProcessInstance
from engine.errors import DeploymentRefused
from engine.services import timers
from tests.bpmn_snippets import chain, user_task
from tests.support import deploy_process, deploy_xml, instance, task_ids

DEPLOYED = datetime(2026, 3, 2, 9, tzinfo=UTC)


def items(db: Database) -> list[tuple[str, str, str]]:
    with unit_of_work(db) as uow:
        rows = uow.session.execute(select(ProcessInstance).where(ProcessInstance.process_key == "improvement")
                                   .order_by(ProcessInstance.id)).scalars().all()
        keys = [(r.business_key, r.started_by) for r in rows]
    return [(k, by, instance(db, k)["data"].get("practice")) for k, by in keys]


def test_reviews_start_on_their_cadence_without_clicks(scenario_db: Database) -> None:
    db = scenario_db
    with time_machine.travel(DEPLOYED, tick=False) as t:
        deploy_process(db, "improvement")
        timers.run_worker(db, once=True)
        assert items(db) == []  # January's and February's occurrences were before the deployment
        t.move_to(datetime(2026, 3, 5, 8, 59, tzinfo=UTC))
        timers.run_worker(db, once=True)
        assert items(db) == []
        t.move_to(datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
        timers.run_worker(db, once=True)
        timers.run_worker(db, once=True)  # the same occurrence never starts twice
        (monthly,) = items(db)
        assert monthly[1:] == ("cadence:service_review", "response")
        data = instance(db, monthly[0])["data"]
        assert (data["source"], data["cadence_due"]) == ("review", "2026-03-05T09:00:00+00:00")
        assert data["opportunity"].startswith("Monthly service review")
        assert task_ids(db, monthly[0]) == ["identify"]

        t.move_to(datetime(2026, 4, 6, 12, tzinfo=UTC))  # April: the monthly and the quarterly review
        timers.run_worker(db, once=True)
        started = items(db)[1:]
    assert sorted(s[1:] for s in started) == [("cadence:risk_review", "change"),
                                               ("cadence:service_review", "response")]


@pytest.mark.parametrize(("value", "message"), [
    ("R/2026-01-05T09:00:00Z", "is not a repeating interval"),
    ("R/yesterday/P1M", "is not a date and time"),
])
def test_a_malformed_cadence_is_refused_at_deploy(scenario_db: Database, value: str, message: str) -> None:
    props = f'<camunda:property name="cadence.weekly" value="{value}"/>'
    xml = chain("reviews", [user_task(0)],
                extra=f"<bpmn:extensionElements><camunda:properties>{props}</camunda:properties>"
                      "</bpmn:extensionElements>")
    with pytest.raises(DeploymentRefused) as refused:
        deploy_xml(scenario_db, xml)
    assert any(message in p["message"] for p in refused.value.details["problems"])
