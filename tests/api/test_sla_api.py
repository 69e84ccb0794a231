"""SLA clocks through the API, for the shipped response process and for a process of the organisation's own
(the engine knows neither by name), and the deploy-time checks of the clock declarations."""

from __future__ import annotations

import pytest
import time_machine

from engine.errors import DeploymentRefused
from tests.api.conftest import Api
from tests.bpmn_snippets import chain, user_task
from tests.processes.response_support import T0
from tests.support import deploy_xml

PROPS = ('<bpmn:extensionElements><camunda:properties>{}</camunda:properties></bpmn:extensionElements>')


def prop(name: str, value: str) -> str:
    return f'<camunda:property name="{name}" value="{value}"/>'


def helpdesk(process_props: str, step_props: str) -> str:
    return chain("helpdesk", [user_task(0, props=step_props)], extra=PROPS.format(process_props))


def test_the_clocks_of_a_record_through_the_api(api: Api) -> None:
    with time_machine.travel(T0, tick=False) as t:
        key = api.post("/instances", "ivan", json={"process": "response", "data": {"query_type": "incident"}}
                       ).json["business_key"]
        t.shift(600)
        answer = api.get(f"/instances/{key}/sla", "heidi").json
    assert answer["declared"]["clocks"] == ["respond", "resolve"]
    respond = answer["clocks"][0]
    # no catalogue calendar: every hour counts; no target yet (the record is not prioritised)
    assert (respond["state"], respond["elapsed_seconds"], respond["result"]) == ("running", 600, "no_target")
    assert respond["segments"] == [{"from": T0.isoformat(), "to": None}]
    assert api.get("/instances/INC-999999/sla", "heidi").status_code == 404
    assert api.get(f"/instances/{key}/sla", "erin").status_code in (403, 404)  # not a party, not staff of it


def test_a_process_of_its_own_declares_its_clocks(api: Api) -> None:
    deploy_xml(api.db, helpdesk(prop("sla.clocks", "answer") + prop("sla.target.answer", "answer_within"),
                                prop("sla.start", "answer") + prop("sla.stop", "answer")))
    with time_machine.travel(T0, tick=False) as t:
        key = api.post("/instances", "alice", json={"process": "helpdesk", "data": {"answer_within": "PT1H"}}
                       ).json["business_key"]
        t.shift(3 * 3600)
        (clock,) = api.get(f"/instances/{key}/sla", "alice").json["clocks"]
    assert (clock["clock"], clock["state"], clock["result"]) == ("answer", "running", "breached")
    assert clock["due_at"] == T0.replace(hour=10).isoformat()


def test_malformed_clock_declarations_are_refused_by_element(api: Api) -> None:
    cases = [
        (prop("sla.clocks", "Answer!"), prop("sla.start", "Answer!"), "is not a clock name"),
        (prop("sla.clocks", "answer"), prop("sla.stop", "answer"), "never started"),
        (prop("sla.clocks", "answer"), prop("sla.start", "answer, other"), "other is not a clock"),
        ("", prop("sla.start", "answer"), "declares no sla.clocks"),
        (prop("sla.clocks", "answer") + prop("sla.pauses", "no_such_table"), prop("sla.start", "answer"),
         "'no_such_table' is not deployed"),
        (prop("sla.clocks", "answer") + prop("sla.near_breach", "150"), prop("sla.start", "answer"),
         "must be a percent"),
    ]
    for process_props, step_props, message in cases:
        with pytest.raises(DeploymentRefused) as refused:
            deploy_xml(api.db, helpdesk(process_props, step_props))
        assert any(message in p["message"] for p in refused.value.details["problems"]), refused.value.details
