"""Tiny BPMN documents built in tests (no DI needed: the engine does not read it)."""

from __future__ import annotations

from xml.sax.saxutils import escape

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://itsmflow.test">')


def chain(process_id: str, nodes: list[str], extra: str = "", lanes: str = "") -> str:
    """A start event, the given node XML snippets in order (each must have id="nN"), an end event."""
    ids = ["start"] + [f"n{i}" for i in range(len(nodes))] + ["end"]
    flows = "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
                    for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False)))
    body = "".join(nodes)
    return (f'{HEAD}<bpmn:process id="{process_id}" isExecutable="true">{lanes}<bpmn:startEvent id="start"/>'
            f'{body}<bpmn:endEvent id="end"/>{flows}{extra}</bpmn:process></bpmn:definitions>')


def user_task(n: int, role: str = "service_desk", fields: str = "", props: str = "", name: str = "Do it") -> str:
    ext = ""
    if fields or props:
        form = f"<camunda:formData>{fields}</camunda:formData>" if fields else ""
        properties = f"<camunda:properties>{props}</camunda:properties>" if props else ""
        ext = f"<bpmn:extensionElements>{form}{properties}</bpmn:extensionElements>"
    return f'<bpmn:userTask id="n{n}" name="{name}" camunda:candidateGroups="{role}">{ext}</bpmn:userTask>'


def script_task(n: int, script: str) -> str:
    return f'<bpmn:scriptTask id="n{n}" name="Script {n}"><bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>'


def field(fid: str, ftype: str = "string", constraints: str = "", values: str = "", default: str | None = None) -> str:
    dv = f' defaultValue="{default}"' if default is not None else ""
    validation = f"<camunda:validation>{constraints}</camunda:validation>" if constraints else ""
    head = f'<camunda:formField id="{fid}" label="{fid.title()}" type="{ftype}"{dv}>'
    return f"{head}{validation}{values}</camunda:formField>"


def constraint(name: str, config: str | None = None) -> str:
    cfg = f' config="{config}"' if config is not None else ""
    return f'<camunda:constraint name="{name}"{cfg}/>'


def loop_process(process_id: str, rounds: int) -> str:
    """A 3-node gateway back-edge loop run `rounds` times by the engine alone, then a user task."""
    return (f'{HEAD}<bpmn:process id="{process_id}" isExecutable="true">'
            '<bpmn:startEvent id="start"/>'
            '<bpmn:scriptTask id="init"><bpmn:script>n = 0</bpmn:script></bpmn:scriptTask>'
            '<bpmn:scriptTask id="inc"><bpmn:script>n += 1</bpmn:script></bpmn:scriptTask>'
            '<bpmn:exclusiveGateway id="gw" default="back"/>'
            '<bpmn:userTask id="review" camunda:candidateGroups="service_desk"/><bpmn:endEvent id="end"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="init"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="init" targetRef="inc"/>'
            '<bpmn:sequenceFlow id="f3" sourceRef="inc" targetRef="gw"/>'
            f'<bpmn:sequenceFlow id="done" sourceRef="gw" targetRef="review"><bpmn:conditionExpression>n &gt;= {rounds}'
            '</bpmn:conditionExpression></bpmn:sequenceFlow>'
            '<bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="inc"/>'
            '<bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="end"/></bpmn:process></bpmn:definitions>')


def human_loop_process(process_id: str) -> str:
    """A user task reworked until `done` is ticked: the long-lived rework loop of ITSM records."""
    return (f'{HEAD}<bpmn:process id="{process_id}" isExecutable="true">'
            '<bpmn:startEvent id="start"/>'
            '<bpmn:userTask id="work" camunda:candidateGroups="resolver"><bpmn:extensionElements><camunda:formData>'
            '<camunda:formField id="done" type="boolean"/></camunda:formData></bpmn:extensionElements></bpmn:userTask>'
            '<bpmn:scriptTask id="count"><bpmn:script>rounds = rounds + 1</bpmn:script>'
            '</bpmn:scriptTask>'
            '<bpmn:exclusiveGateway id="gw" default="again"/><bpmn:endEvent id="end"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="count"/>'
            '<bpmn:sequenceFlow id="f3" sourceRef="count" targetRef="gw"/>'
            '<bpmn:sequenceFlow id="finish" sourceRef="gw" targetRef="end"><bpmn:conditionExpression>done == True'
            '</bpmn:conditionExpression></bpmn:sequenceFlow>'
            '<bpmn:sequenceFlow id="again" sourceRef="gw" targetRef="work"/></bpmn:process></bpmn:definitions>')
