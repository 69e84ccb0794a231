"""Guards for engine behaviour found while modelling: data and path survive a wait, event-based gateways
wait on each of their events, parallel joins record every arriving flow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from engine.db.database import Database, unit_of_work
from engine.services import instances, messages, timers
from tests.bpmn_snippets import HEAD
from tests.conftest import ADMIN, ALICE, IVAN
from tests.support import deploy_xml, do, instance

WAIT_AFTER_EDIT = (
    f'{HEAD}<bpmn:message id="m" name="go"/><bpmn:process id="w" isExecutable="true"><bpmn:startEvent id="s"/>'
    '<bpmn:userTask id="edit" camunda:candidateGroups="service_desk"><bpmn:extensionElements><camunda:formData>'
    '<camunda:formField id="title" type="string"/></camunda:formData></bpmn:extensionElements></bpmn:userTask>'
    '<bpmn:scriptTask id="tidy"><bpmn:script>del scratch</bpmn:script></bpmn:scriptTask>'
    '<bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="m"/></bpmn:intermediateCatchEvent>'
    '<bpmn:endEvent id="e"/>'
    '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="edit"/><bpmn:sequenceFlow id="f2" sourceRef="edit" '
    'targetRef="tidy"/><bpmn:sequenceFlow id="f3" sourceRef="tidy" targetRef="wait"/>'
    '<bpmn:sequenceFlow id="f4" sourceRef="wait" targetRef="e"/></bpmn:process></bpmn:definitions>')

EVENT_GATEWAY = (
    f'{HEAD}<bpmn:message id="m" name="answer"/><bpmn:process id="g" isExecutable="true"><bpmn:startEvent id="s"/>'
    '<bpmn:eventBasedGateway id="gw"/>'
    '<bpmn:intermediateCatchEvent id="answered"><bpmn:messageEventDefinition messageRef="m"/>'
    '</bpmn:intermediateCatchEvent>'
    '<bpmn:intermediateCatchEvent id="silence"><bpmn:timerEventDefinition><bpmn:timeDuration>P7D</bpmn:timeDuration>'
    '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
    '<bpmn:userTask id="chase" camunda:candidateGroups="service_desk"/><bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>'
    '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="gw"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="answered"/>'
    '<bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="silence"/>'
    '<bpmn:sequenceFlow id="f4" sourceRef="answered" targetRef="e1"/>'
    '<bpmn:sequenceFlow id="f5" sourceRef="silence" targetRef="chase"/>'
    '<bpmn:sequenceFlow id="f6" sourceRef="chase" targetRef="e2"/></bpmn:process></bpmn:definitions>')

PARALLEL = (
    f'{HEAD}<bpmn:process id="par" isExecutable="true"><bpmn:startEvent id="s"/>'
    '<bpmn:parallelGateway id="fork"/><bpmn:parallelGateway id="join"/>'
    '<bpmn:userTask id="a" camunda:candidateGroups="service_desk"/>'
    '<bpmn:userTask id="b" camunda:candidateGroups="service_desk"/><bpmn:endEvent id="e"/>'
    '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="fork"/><bpmn:sequenceFlow id="fa" sourceRef="fork" '
    'targetRef="a"/><bpmn:sequenceFlow id="fb" sourceRef="fork" targetRef="b"/>'
    '<bpmn:sequenceFlow id="ja" sourceRef="a" targetRef="join"/><bpmn:sequenceFlow id="jb" sourceRef="b" '
    'targetRef="join"/><bpmn:sequenceFlow id="f2" sourceRef="join" targetRef="e"/></bpmn:process></bpmn:definitions>')


def _path(db: Database, key: str) -> dict:
    with unit_of_work(db) as uow:
        return instances.path(uow, instances.find(uow, ADMIN, key))


def test_data_and_path_survive_a_wait(db: Database) -> None:
    deploy_xml(db, WAIT_AFTER_EDIT)
    key = instances.start(db, IVAN, "w", {"title": "old", "scratch": 1}).business_key
    do(db, ALICE, key, "edit", {"title": "new"})
    messages.post(db, ADMIN, "go", {"business_key": key}, {})
    view = instance(db, key)
    assert view["status"] == "completed"
    assert view["data"]["title"] == "new" and "scratch" not in view["data"]
    assert _path(db, key)["flows"] == ["f1", "f2", "f3", "f4"]


def test_event_based_gateway_takes_the_message(db: Database) -> None:
    deploy_xml(db, EVENT_GATEWAY)
    key = instances.start(db, IVAN, "g", {}).business_key
    assert instance(db, key)["next_wakeup_at"] is not None
    messages.post(db, ADMIN, "answer", {"business_key": key}, {"text": "fixed"})
    view = instance(db, key)
    assert view["status"] == "completed" and view["data"]["answer"] == {"text": "fixed"}
    assert _path(db, key)["flows"] == ["f1", "f2", "f4"]


def test_event_based_gateway_takes_the_timer(db: Database) -> None:
    deploy_xml(db, EVENT_GATEWAY)
    key = instances.start(db, IVAN, "g", {}).business_key
    with time_machine.travel(datetime.now(UTC) + timedelta(days=7, minutes=1), tick=False):
        assert timers.fire_due(db).instances == 1
    assert [t["element_id"] for t in instance(db, key)["tasks"]] == ["chase"]


def test_parallel_join_records_both_branches(db: Database) -> None:
    deploy_xml(db, PARALLEL)
    key = instances.start(db, IVAN, "par", {}).business_key
    do(db, ALICE, key, "a")
    do(db, ALICE, key, "b")
    assert {"ja", "jb", "fa", "fb", "f2"} <= set(_path(db, key)["flows"])
