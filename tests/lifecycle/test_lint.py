"""Lint warnings on small diagrams: each rule fires where it should and stays quiet where it should not."""

from __future__ import annotations

from typing import Any

from engine.diagram.lint import lint_process
from engine.diagram.metadata import read_processes
from engine.diagram.xmlsafe import parse_xml
from tests.bpmn_snippets import HEAD, chain, user_task

HELD = frozenset({"service_desk", "resolver"})


def lint(xml: str, held: frozenset[str] | None = HELD) -> list[tuple[str, str]]:
    root = parse_xml(xml.encode())
    return [(w["element_id"], w["kind"]) for w in lint_process(root, read_processes(root)["p"], held)]


def process(body: str) -> str:
    return f'{HEAD}<bpmn:process id="p" isExecutable="true">{body}</bpmn:process></bpmn:definitions>'


def flow(fid: str, a: str, b: str, condition: str | None = None) -> str:
    cond = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
    return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{a}" targetRef="{b}">{cond}</bpmn:sequenceFlow>'


def test_a_clean_chain_has_no_warning() -> None:
    assert lint(chain("p", [user_task(0), user_task(1, role="resolver")])) == []


def test_disconnected_elements() -> None:
    orphan = '<bpmn:userTask id="orphan" name="Orphan" camunda:candidateGroups="service_desk"/>'
    dead_end = '<bpmn:userTask id="dead" name="Dead end" camunda:candidateGroups="service_desk"/>'
    xml = chain("p", [user_task(0)], extra=orphan + dead_end + flow("fx", "n0", "dead"))
    # an island: two tasks that lead to each other but that nothing reaches
    island = ('<bpmn:userTask id="a" camunda:candidateGroups="service_desk"/>'
              '<bpmn:userTask id="b" camunda:candidateGroups="service_desk"/>' + flow("fa", "a", "b")
              + flow("fb", "b", "a"))
    found = lint(xml) + lint(chain("p", [user_task(0)], extra=island))
    assert ("orphan", "disconnected") in found and ("dead", "disconnected") in found
    assert ("a", "disconnected") in found and ("b", "disconnected") in found
    assert ("n0", "disconnected") not in found


def test_tasks_nobody_can_do() -> None:
    nobody = '<bpmn:task id="n1" name="Plain task"/>'
    xml = chain("p", [user_task(0, role="cab"), nobody, user_task(2, role="requester")])
    found = lint(xml)
    assert ("n0", "no_role") in found  # cab: no active user holds it
    assert ("n1", "no_role") in found  # no role at all
    assert ("n2", "no_role") not in found  # requester: everyone
    assert ("n0", "no_role") not in lint(xml, held=None)  # without the users' roles only the structural check


def test_gateway_without_default() -> None:
    body = ('<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="gw" name="Which way"/>'
            '<bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>' + flow("f0", "start", "gw")
            + flow("f1", "gw", "e1", "x == 1") + flow("f2", "gw", "e2", "x == 2"))
    assert ("gw", "no_default") in lint(process(body))
    with_default = body.replace('name="Which way"/>', 'name="Which way" default="f2"/>')
    assert ("gw", "no_default") not in lint(process(with_default))


def timer(attached: str, target: str) -> str:
    return (f'<bpmn:boundaryEvent id="t" name="Late" attachedToRef="{attached}" cancelActivity="false">'
            '<bpmn:timerEventDefinition><bpmn:timeDuration>PT4H</bpmn:timeDuration></bpmn:timerEventDefinition>'
            f'</bpmn:boundaryEvent>{flow("ft", "t", target)}')


def test_timer_without_an_escalation_path() -> None:
    silent = chain("p", [user_task(0)], extra=timer("n0", "quiet_end") + '<bpmn:endEvent id="quiet_end"/>')
    assert ("t", "timer_without_escalation") in lint(silent)
    escalates = chain("p", [user_task(0)], extra=timer("n0", "chase")
                      + '<bpmn:userTask id="chase" camunda:candidateGroups="service_desk"/>'
                      + '<bpmn:endEvent id="e9"/>' + flow("fc", "chase", "e9"))
    assert ("t", "timer_without_escalation") not in lint(escalates)
    message = ('<bpmn:message id="m" name="sla.breached"/>' + chain("p", [user_task(0)], extra=timer("n0", "tell")
               + '<bpmn:endEvent id="tell"><bpmn:messageEventDefinition messageRef="m"/></bpmn:endEvent>'))
    assert ("t", "timer_without_escalation") not in lint(_moved(message))
    notifies = chain("p", [user_task(0)], extra=timer("n0", "told") + (
        '<bpmn:endEvent id="told"><bpmn:extensionElements><camunda:properties>'
        '<camunda:property name="notification" value="stakeholder_update"/>'
        '</camunda:properties></bpmn:extensionElements></bpmn:endEvent>'))
    assert ("t", "timer_without_escalation") not in lint(notifies)


def _moved(xml: str) -> str:
    """bpmn:message belongs under definitions, not before it: move it into place."""
    message = '<bpmn:message id="m" name="sla.breached"/>'
    return xml.replace(message, "", 1).replace('<bpmn:process ', message + '<bpmn:process ', 1)


def test_shipped_processes_lint_clean() -> None:
    from tests.support import PROCESSES

    everyone = frozenset({"service_desk", "resolver", "problem_team", "change_manager", "cab", "executive_sponsor",
                          "implementer", "release_manager", "process_owner"})
    for bpmn in sorted(PROCESSES.glob("*/*.bpmn")):
        root = parse_xml(bpmn.read_bytes())
        for pm in read_processes(root).values():
            if pm.executable:
                found: list[Any] = lint_process(root, pm, everyone)
                assert found == [], (bpmn.name, found)
