"""A small change process with decision rights and approvals, for the audit tests (self-contained, so the shipped
diagrams can evolve without touching these tests)."""

from __future__ import annotations

from typing import Any

from engine.db.database import Database
from engine.services.actors import Actor
from engine.services.decisions import DmnFile
from tests.bpmn_snippets import HEAD
from tests.support import deploy_xml

SAM = Actor("sam", frozenset({"executive_sponsor", "requester"}))

_RULES = [  # change_class, estimated_hours, users_affected, critical_service -> approver, approval_required
    ("standard", '"standard"', "-", "-", "-", '"implementing_team"', "false"),
    ("critical", "-", "-", "-", "true", '"executive_sponsor"', "true"),
    ("small", "-", "&lt; 4", "&lt; 50", "-", '"it_manager"', "true"),
    ("otherwise", "-", "-", "-", "-", '"cab"', "true"),
]


def _rule(rule: tuple[str, ...]) -> str:
    ins = "".join(f'<inputEntry id="{rule[0]}_i{n}"><text>{t}</text></inputEntry>' for n, t in enumerate(rule[1:5]))
    outs = "".join(f'<outputEntry id="{rule[0]}_o{n}"><text>{t}</text></outputEntry>' for n, t in enumerate(rule[5:]))
    return f'<rule id="{rule[0]}">{ins}{outs}</rule>'


def _input(name: str, type_ref: str) -> str:
    return (f'<input id="in_{name}" label="{name}"><inputExpression id="ie_{name}" typeRef="{type_ref}">'
            f'<text>{name}</text></inputExpression></input>')


RIGHTS_DMN = (
    '<?xml version="1.0" encoding="UTF-8"?><definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
    'id="rights_defs" name="Decision rights" namespace="http://itsmflow.test">'
    '<decision id="rights" name="Who approves"><decisionTable id="rights_table" hitPolicy="FIRST">'
    + _input("change_class", "string") + _input("estimated_hours", "double") + _input("users_affected", "integer")
    + _input("critical_service", "boolean")
    + '<output id="out_approver" name="approver" typeRef="string"/>'
      '<output id="out_required" name="approval_required" typeRef="boolean"/>'
    + "".join(_rule(r) for r in _RULES) + "</decisionTable></decision></definitions>")


def _approval(element_id: str, role: str) -> str:
    return (f'<bpmn:userTask id="{element_id}" name="Approve ({role})" camunda:candidateGroups="{role}">'
            '<bpmn:extensionElements><camunda:properties><camunda:property name="approval" value="true"/>'
            '</camunda:properties><camunda:formData><camunda:formField id="approved" type="boolean"/>'
            '</camunda:formData></bpmn:extensionElements></bpmn:userTask>')


def change_process(process_id: str = "chg", manager_route: str = "it_manager") -> str:
    """register -> rights table -> the competent approval (or pre-approval) -> implement (SLA PT4H) -> end.
    manager_route: the approver value that routes to the IT manager's task (a wrong one models a routing bug)."""
    cond = '<bpmn:conditionExpression>approver == "{}"</bpmn:conditionExpression>'
    return (
        f'{HEAD}<bpmn:process id="{process_id}" isExecutable="true">'
        '<bpmn:extensionElements><camunda:properties>'  # which role each `approver` value stands for
        '<camunda:property name="approver_roles" value="implementing_team=implementer, it_manager=change_manager,'
        ' cab=cab, executive_sponsor=executive_sponsor"/>'
        '<camunda:property name="approval_not_needed" value="implementing_team"/>'
        '</camunda:properties></bpmn:extensionElements><bpmn:startEvent id="start"/>'
        '<bpmn:userTask id="register" name="Register" camunda:candidateGroups="service_desk">'
        '<bpmn:extensionElements><camunda:formData>'
        '<camunda:formField id="change_class" type="enum"><camunda:value id="standard"/><camunda:value id="normal"/>'
        '</camunda:formField><camunda:formField id="estimated_hours" type="long"/>'
        '<camunda:formField id="users_affected" type="long"/><camunda:formField id="critical_service" type="boolean"/>'
        '<camunda:formField id="access_code" type="string"><camunda:properties>'
        '<camunda:property id="secret" value="true"/></camunda:properties></camunda:formField>'
        '</camunda:formData></bpmn:extensionElements></bpmn:userTask>'
        '<bpmn:businessRuleTask id="rights" name="Decision rights" camunda:decisionRef="rights"/>'
        '<bpmn:exclusiveGateway id="who" default="to_cab"/>'
        '<bpmn:scriptTask id="pre_approve"><bpmn:script>approved = True</bpmn:script></bpmn:scriptTask>'
        + _approval("approve_manager", "change_manager") + _approval("approve_cab", "cab")
        + _approval("approve_sponsor", "executive_sponsor") +
        '<bpmn:exclusiveGateway id="decided" default="rejected"/>'
        '<bpmn:exclusiveGateway id="go"/>'
        '<bpmn:userTask id="implement" name="Implement" camunda:candidateGroups="implementer"/>'
        '<bpmn:boundaryEvent id="sla" attachedToRef="implement" cancelActivity="false"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>PT4H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
        '<bpmn:userTask id="escalate" name="Chase" camunda:candidateGroups="change_manager"/>'
        '<bpmn:endEvent id="end"/><bpmn:endEvent id="end_rejected"/><bpmn:endEvent id="end_escalated"/>'
        '<bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="register"/>'
        '<bpmn:sequenceFlow id="f_register" sourceRef="register" targetRef="rights"/>'
        '<bpmn:sequenceFlow id="f_rights" sourceRef="rights" targetRef="who"/>'
        f'<bpmn:sequenceFlow id="to_team" sourceRef="who" targetRef="pre_approve">{cond.format("implementing_team")}'
        '</bpmn:sequenceFlow>'
        f'<bpmn:sequenceFlow id="to_manager" sourceRef="who" targetRef="approve_manager">{cond.format(manager_route)}'
        '</bpmn:sequenceFlow>'
        '<bpmn:sequenceFlow id="to_cab" sourceRef="who" targetRef="approve_cab"/>'
        f'<bpmn:sequenceFlow id="to_sponsor" sourceRef="who" targetRef="approve_sponsor">'
        f'{cond.format("executive_sponsor")}</bpmn:sequenceFlow>'
        '<bpmn:sequenceFlow id="f_m" sourceRef="approve_manager" targetRef="decided"/>'
        '<bpmn:sequenceFlow id="f_c" sourceRef="approve_cab" targetRef="decided"/>'
        '<bpmn:sequenceFlow id="f_s" sourceRef="approve_sponsor" targetRef="decided"/>'
        '<bpmn:sequenceFlow id="approved_flow" sourceRef="decided" targetRef="go"><bpmn:conditionExpression>'
        'approved == True</bpmn:conditionExpression></bpmn:sequenceFlow>'
        '<bpmn:sequenceFlow id="rejected" sourceRef="decided" targetRef="end_rejected"/>'
        '<bpmn:sequenceFlow id="f_pre" sourceRef="pre_approve" targetRef="go"/>'
        '<bpmn:sequenceFlow id="f_go" sourceRef="go" targetRef="implement"/>'
        '<bpmn:sequenceFlow id="f_done" sourceRef="implement" targetRef="end"/>'
        '<bpmn:sequenceFlow id="f_late" sourceRef="sla" targetRef="escalate"/>'
        '<bpmn:sequenceFlow id="f_chased" sourceRef="escalate" targetRef="end_escalated"/>'
        '</bpmn:process></bpmn:definitions>')


def deploy_change(db: Database, process_id: str = "chg", manager_route: str = "it_manager") -> None:
    deploy_xml(db, change_process(process_id, manager_route), dmn=[DmnFile("rights.dmn", RIGHTS_DMN.encode())])


SMALL: dict[str, Any] = {"change_class": "normal", "estimated_hours": 2, "users_affected": 10,
                         "critical_service": False}
BIG: dict[str, Any] = {**SMALL, "estimated_hours": 40}
CRITICAL: dict[str, Any] = {**SMALL, "critical_service": True}
STANDARD: dict[str, Any] = {**SMALL, "change_class": "standard"}
