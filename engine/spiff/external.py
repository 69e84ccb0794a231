"""External tasks in a running workflow: which wait for a worker, and what a worker's answer does to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from engine.spiff.compact import previous_element
from engine.spiff.runtime import Completed, Runner, StepLog, json_safe
from engine.spiff.specs import ExternalTask


@dataclass
class Waiting:
    task_id: str
    element_id: str
    topic: str
    variables: dict[str, Any]


def waiting(runner: Runner) -> list[Waiting]:
    """Every started external task, with the data it started with (a multi-instance item included)."""
    return [Waiting(str(t.id), t.task_spec.bpmn_id, t.task_spec.topic, json_safe(t.data))
            for t in runner.workflow.get_tasks(state=TaskState.STARTED)
            if isinstance(t.task_spec, ExternalTask)]


def _started(runner: Runner, task_id: str) -> Any:
    task = runner.workflow.get_task_from_id(UUID(task_id))
    if task is None or not isinstance(task.task_spec, ExternalTask) or task.state != TaskState.STARTED:
        raise LookupError(task_id)
    return task


def complete(runner: Runner, task_id: str, variables: dict[str, Any]) -> StepLog:
    """The worker finished: its variables go into the data, the task completes, the engine goes on."""
    task = _started(runner, task_id)
    data = dict(task.data)
    data.update(variables)
    task.data = data
    task.complete()
    log = StepLog()
    log.completed.append(Completed(task.task_spec.bpmn_id, task_id, previous_element(task)))
    return runner._engine_steps(log)


def catches_error(runner: Runner, task_id: str, code: str) -> bool:
    """Whether an error boundary event on this task (or around it) would catch `code`."""
    task = _started(runner, task_id)
    event = BpmnEvent(ErrorEventDefinition(code, code=code))
    for waiting_task in runner.workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(waiting_task.task_spec, "event_definition", None)
        if isinstance(definition, ErrorEventDefinition) and definition.catches(waiting_task, event) and \
                waiting_task.workflow is task.workflow:
            return True
    return False


def throw_error(runner: Runner, task_id: str, code: str, variables: dict[str, Any]) -> StepLog:
    """The worker reports a BPMN error: the error boundary event with that code takes the record on."""
    task = _started(runner, task_id)
    data = dict(task.data)
    data.update(variables)
    task.data = data
    event = BpmnEvent(ErrorEventDefinition(code, code=code), payload=dict(variables), target=task.workflow)
    runner.workflow.catch(event)
    return runner._engine_steps(StepLog())
