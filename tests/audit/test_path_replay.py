"""The path shown for an instance (computed from its audit trail) against what SpiffWorkflow itself does with
the same diagram and inputs, run raw in memory with its full history (tests/audit/replay.py)."""

from __future__ import annotations

import pytest

from engine.db.database import Database
from tests.audit.replay import Auto, Complete, Fire, assert_trail_matches, run_both, tables_in
from tests.bpmn_snippets import HEAD, chain, human_loop_process, loop_process, user_task
from tests.conftest import CORA
from tests.support import PROCESSES, deploy_process, deploy_xml

PARALLEL = (
    f'{HEAD}<bpmn:process id="par" isExecutable="true"><bpmn:startEvent id="start"/>'
    '<bpmn:parallelGateway id="fork"/>'
    '<bpmn:userTask id="check_a" camunda:candidateGroups="resolver"/>'
    '<bpmn:scriptTask id="note_b"><bpmn:script>b_done = True</bpmn:script></bpmn:scriptTask>'
    '<bpmn:userTask id="check_c" camunda:candidateGroups="service_desk"/>'
    '<bpmn:parallelGateway id="join"/>'
    '<bpmn:exclusiveGateway id="route" default="to_low"/>'
    '<bpmn:userTask id="high" camunda:candidateGroups="change_manager"/>'
    '<bpmn:scriptTask id="low"><bpmn:script>handled = "low"</bpmn:script></bpmn:scriptTask>'
    '<bpmn:exclusiveGateway id="merge"/><bpmn:endEvent id="end"/>'
    '<bpmn:sequenceFlow id="p0" sourceRef="start" targetRef="fork"/>'
    '<bpmn:sequenceFlow id="p1" sourceRef="fork" targetRef="check_a"/>'
    '<bpmn:sequenceFlow id="p2" sourceRef="fork" targetRef="note_b"/>'
    '<bpmn:sequenceFlow id="p3" sourceRef="fork" targetRef="check_c"/>'
    '<bpmn:sequenceFlow id="p4" sourceRef="check_a" targetRef="join"/>'
    '<bpmn:sequenceFlow id="p5" sourceRef="note_b" targetRef="join"/>'
    '<bpmn:sequenceFlow id="p6" sourceRef="check_c" targetRef="join"/>'
    '<bpmn:sequenceFlow id="p7" sourceRef="join" targetRef="route"/>'
    '<bpmn:sequenceFlow id="to_high" sourceRef="route" targetRef="high"><bpmn:conditionExpression>'
    'level == "high"</bpmn:conditionExpression></bpmn:sequenceFlow>'
    '<bpmn:sequenceFlow id="to_low" sourceRef="route" targetRef="low"/>'
    '<bpmn:sequenceFlow id="p8" sourceRef="high" targetRef="merge"/>'
    '<bpmn:sequenceFlow id="p9" sourceRef="low" targetRef="merge"/>'
    '<bpmn:sequenceFlow id="p10" sourceRef="merge" targetRef="end"/>'
    '</bpmn:process></bpmn:definitions>')


def _timer_process(interrupting: bool, timer: str = "timeDuration", expression: str = "PT4H") -> str:
    cancel = "true" if interrupting else "false"
    return chain("tm", [user_task(0, name="Respond"), user_task(1, role="resolver", name="Fix")], extra=(
        f'<bpmn:boundaryEvent id="sla" attachedToRef="n0" cancelActivity="{cancel}"><bpmn:timerEventDefinition>'
        f'<bpmn:{timer}>{expression}</bpmn:{timer}></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
        '<bpmn:userTask id="escalate" name="Escalate" camunda:candidateGroups="change_manager"/>'
        '<bpmn:endEvent id="escalated"/>'
        '<bpmn:sequenceFlow id="e1" sourceRef="sla" targetRef="escalate"/>'
        '<bpmn:sequenceFlow id="e2" sourceRef="escalate" targetRef="escalated"/>'))


INTERMEDIATE_TIMER = (
    f'{HEAD}<bpmn:process id="it" isExecutable="true"><bpmn:startEvent id="start"/>'
    '<bpmn:scriptTask id="prepare"><bpmn:script>ready = True</bpmn:script></bpmn:scriptTask>'
    '<bpmn:intermediateCatchEvent id="pause"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H'
    '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
    '<bpmn:userTask id="resume" camunda:candidateGroups="service_desk"/><bpmn:endEvent id="end"/>'
    '<bpmn:sequenceFlow id="i1" sourceRef="start" targetRef="prepare"/>'
    '<bpmn:sequenceFlow id="i2" sourceRef="prepare" targetRef="pause"/>'
    '<bpmn:sequenceFlow id="i3" sourceRef="pause" targetRef="resume"/>'
    '<bpmn:sequenceFlow id="i4" sourceRef="resume" targetRef="end"/></bpmn:process></bpmn:definitions>')


def test_engine_loop_of_a_few_rounds(db: Database) -> None:
    xml = loop_process("lp", 20)
    deploy_xml(db, xml)
    raw, key = run_both(db, xml, "lp", {}, [Complete("review")])
    path = assert_trail_matches(db, key, raw)
    assert path["completed"].count("inc") == 20 and path["flows"].count("back") == 19


def test_engine_loop_of_many_rounds(db: Database) -> None:
    xml = loop_process("lp", 70)  # past the runtime's compaction interval (64 completions)
    deploy_xml(db, xml)
    raw, key = run_both(db, xml, "lp", {}, [Complete("review")])
    path = assert_trail_matches(db, key, raw)
    assert path["completed"].count("inc") == 70 and path["flows"].count("back") == 69


def test_intermediate_timer_waiting_across_a_save(db: Database) -> None:
    deploy_xml(db, INTERMEDIATE_TIMER)
    raw, key = run_both(db, INTERMEDIATE_TIMER, "it", {}, [Fire(hours=2), Complete("resume")])
    path = assert_trail_matches(db, key, raw)
    assert path["flows"] == ["i1", "i2", "i3", "i4"]


def test_human_rework_loop(db: Database) -> None:
    xml = human_loop_process("hl")
    deploy_xml(db, xml)
    steps = [Complete("work", {"done": False}), Complete("work", {"done": False}), Complete("work", {"done": True})]
    raw, key = run_both(db, xml, "hl", {"rounds": 0}, steps)
    path = assert_trail_matches(db, key, raw)
    assert path["flows"].count("again") == 2 and path["flows"].count("finish") == 1


PARALLEL_RUNS = [
    ("high", [Complete("check_c"), Complete("check_a"), Complete("high")]),
    ("low", [Complete("check_a"), Complete("check_c")]),
]


@pytest.mark.parametrize(("level", "steps"), PARALLEL_RUNS)
def test_parallel_and_exclusive_gateways(db: Database, level: str, steps: list[Complete]) -> None:
    deploy_xml(db, PARALLEL)
    raw, key = run_both(db, PARALLEL, "par", {"level": level}, steps)
    path = assert_trail_matches(db, key, raw)
    assert {"p1", "p2", "p3", "p4", "p5", "p6"} <= set(path["flows"])
    assert ("to_high" in path["flows"]) == (level == "high")


def test_waiting_half_way_matches_too(db: Database) -> None:
    deploy_xml(db, PARALLEL)
    raw, key = run_both(db, PARALLEL, "par", {"level": "low"}, [Complete("check_c")])
    path = assert_trail_matches(db, key, raw)
    assert set(path["active"]) == raw.active() == {"check_a"}


def test_non_interrupting_boundary_timer(db: Database) -> None:
    xml = _timer_process(interrupting=False)
    deploy_xml(db, xml)
    steps = [Fire(hours=3), Fire(hours=5), Complete("escalate"), Complete("n0"), Complete("n1")]
    raw, key = run_both(db, xml, "tm", {}, steps)
    path = assert_trail_matches(db, key, raw)
    assert "sla" in path["completed"] and "e1" in path["flows"]


def test_interrupting_boundary_timer(db: Database) -> None:
    xml = _timer_process(interrupting=True, expression="${respond_target}")
    deploy_xml(db, xml)
    raw, key = run_both(db, xml, "tm", {"respond_target": "PT1H"}, [Fire(hours=2), Complete("escalate")])
    path = assert_trail_matches(db, key, raw)
    assert "n0" not in path["completed"] and path["completed"][-1] == "escalated"


def test_cycle_timer_escalates_twice(db: Database) -> None:
    xml = _timer_process(interrupting=False, timer="timeCycle", expression="R2/PT10M")
    deploy_xml(db, xml)
    raw, key = run_both(db, xml, "tm", {}, [Fire(minutes=11), Fire(minutes=22), Complete("escalate")])
    path = assert_trail_matches(db, key, raw)
    assert path["flows"].count("e1") == 2


def test_cycle_timer_after_its_last_repetition(db: Database) -> None:
    xml = _timer_process(interrupting=False, timer="timeCycle", expression="R2/PT10M")
    deploy_xml(db, xml)
    steps = [Fire(minutes=11), Fire(minutes=22), Fire(minutes=60), Complete("n0"), Complete("n1")]
    raw, key = run_both(db, xml, "tm", {}, steps)
    assert_trail_matches(db, key, raw)


RESPONSE = PROCESSES / "response"


@pytest.mark.parametrize("choices", [
    # an incident restored after one rework; the user confirms the second time
    {"query_type": "incident", "impact": "high", "urgency": "high", "user_confirmed": [False, True],
     "resolved_first_line": [False], "material_impact": False, "trend_noted": False},
    # a question answered at once
    {"query_type": "information", "answered": True, "user_confirmed": True, "trend_noted": False},
])
def test_response_process(db: Database, choices: dict) -> None:
    """processes/response driven through whatever tasks its current model opens, with valid values."""
    deploy_process(db, "response")
    raw, key = run_both(db, (RESPONSE / "response.bpmn").read_bytes(), "response", {},
                        [Auto(steps=25, choices=choices)], tables=tables_in(RESPONSE))
    path = assert_trail_matches(db, key, raw)
    assert len(path["completed"]) >= 6


def test_response_process_with_a_late_escalation(db: Database) -> None:
    deploy_process(db, "response")
    choices = {"query_type": "incident", "impact": "low", "urgency": "low"}
    steps = [Auto(steps=1, choices=choices), Fire(days=30), Auto(steps=25, choices={"user_confirmed": True})]
    raw, key = run_both(db, (RESPONSE / "response.bpmn").read_bytes(), "response", {}, steps,
                        tables=tables_in(RESPONSE))
    assert_trail_matches(db, key, raw)


CHANGE = PROCESSES / "change"
SMALL_CHANGE = {"assessment": "valid", "estimated_hours": 2, "users_affected": 10, "critical_service": False,
                "approved": True, "risk_likelihood": 1, "risk_impact": 2}


@pytest.mark.parametrize("choices", [
    SMALL_CHANGE,  # approved by the IT manager, handed to release, waiting for it
    {**SMALL_CHANGE, "estimated_hours": 40, "approved": False, "requester_decision": "withdraw"},  # CAB says no
])
def test_change_process(db: Database, choices: dict) -> None:
    """processes/change (message start, decision rights, approvals, a parallel fork and an embedded subprocess
    throwing and waiting for messages), driven through whatever tasks its current model opens."""
    deploy_process(db, "change")
    raw, key = run_both(db, (CHANGE / "change.bpmn").read_bytes(), "change", {"title": "New VPN"},
                        [Auto(steps=25, choices=choices)], tables=tables_in(CHANGE), starter=CORA)
    path = assert_trail_matches(db, key, raw)
    assert any(e.startswith("approve_") for e in path["completed"])
