"""Running one workflow: engine steps with what happened recorded, human tasks, timers, messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.spiff import depth, limits, serializer
from engine.spiff.compact import compact, previous_element
from engine.spiff.sandbox import SandboxEnvironment, ScriptRejected
from engine.spiff.specs import ExternalTask

depth.lift_depth_limit()

COMPACT_EVERY = 64

# decide(decision_key, data) -> (outputs, evidence); supplied by the service layer for each step. A table that
# cannot answer raises DecisionFault; anything else it raises is the host's (the database's) and propagates.
Decider = Callable[[str, dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]]


class DecisionFault(Exception):
    """A decision table that cannot answer: not deployed, two hits in a UNIQUE table, a cell that fails."""


# What a diagram (its scripts, conditions, tables) can get wrong: the instance goes into error, recorded, for a
# person to fix and retry. Any other exception is the host's fault (database, disk, a bug): it propagates, so the
# step's transaction rolls back and the instance stays as it was before the step.
MODEL_FAULTS: tuple[type[Exception], ...] = (SpiffWorkflowException, ScriptRejected, DecisionFault)


def json_safe(value: Any) -> Any:
    """Task data as it can be stored and sent: dates as ISO text, sets/tuples as lists."""
    return json.loads(json.dumps(value, default=json_default))


def json_default(obj: Any) -> Any:
    """How json.dumps writes what JSON has no type for (dates as ISO text, sets as lists)."""
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, (set, tuple, frozenset)):
        return list(obj)
    return str(obj)


class HostScriptEngine(PythonScriptEngine):
    def __init__(self, decide: Decider | None = None) -> None:
        super().__init__(environment=SandboxEnvironment())
        self.decide = decide
        self.evidence: list[dict[str, Any]] = []

    def evaluate(self, task: Any, expression: Any, external_context: dict | None = None) -> Any:
        if expression is None:
            # A Camunda message event without an expression: send the sender's data, as plain JSON.
            return json_safe(task.data)
        return super().evaluate(task, expression, external_context)

    def evaluate_decision(self, task: Any, decision_ref: str) -> dict[str, Any]:
        if self.decide is None:
            raise ScriptRejected("no rules engine is attached to this workflow")
        outputs, evidence = self.decide(decision_ref, dict(task.data))
        self.evidence.append({"element_id": task.task_spec.bpmn_id, "task_id": str(task.id), **evidence})
        return outputs


@dataclass
class Completed:
    element_id: str
    task_id: str
    previous: str | None


@dataclass
class Thrown:
    name: str
    payload: Any


@dataclass
class StepLog:
    completed: list[Completed] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    thrown: list[Thrown] = field(default_factory=list)
    error: dict[str, Any] | None = None


@dataclass
class ReadyTask:
    task_id: str
    element_id: str
    name: str
    data: dict[str, Any]
    previous: str | None = None


@dataclass
class Waiting:
    element_id: str
    kind: str  # timer / message / signal ...
    name: str
    value: Any


def _previous_element(task: Any) -> str | None:
    return previous_element(task)


class Runner:
    """One workflow in memory for the length of one step. Not thread safe (neither is SpiffWorkflow)."""

    def __init__(self, workflow: BpmnWorkflow, engine: HostScriptEngine) -> None:
        self.workflow = workflow
        self.engine = engine
        workflow.script_engine = engine  # never persisted: re-attached on every restore

    @classmethod
    def start(cls, spec: Any, subprocess_specs: dict[str, Any], data: dict[str, Any], decide: Decider) -> Runner:
        wf = BpmnWorkflow(spec, subprocess_specs)
        wf.task_tree.data.update(data)
        return cls(wf, HostScriptEngine(decide))

    @classmethod
    def restore(cls, state: dict[str, Any], spec: Any, subprocess_specs: dict[str, Any],
                decide: Decider | None) -> Runner:
        return cls(serializer.state_from_dict(state, spec, subprocess_specs), HostScriptEngine(decide))

    def state(self) -> dict[str, Any]:
        """The instance to store: compacted first, so long-lived loops stay small and cheap."""
        compact(self.workflow)
        return serializer.state_to_dict(self.workflow)

    # --- steps -----------------------------------------------------------------------------------------
    def _engine_steps(self, log: StepLog) -> StepLog:
        def did_complete(task: Any) -> None:
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if isinstance(task.task_spec, ExternalTask) and not task.has_state(TaskState.COMPLETED):
                return  # it started and waits for a worker: it completes when the worker says so
            if bpmn_id is not None:
                log.completed.append(Completed(bpmn_id, str(task.id), _previous_element(task)))
            if len(log.completed) % COMPACT_EVERY == 0:
                compact(self.workflow)  # an engine-only loop (no wait state) would otherwise grow quadratically
            if len(log.completed) > limits.MAX_ENGINE_STEPS:
                # A loop between elements with no wait state would run (and hold its transaction) forever.
                raise ScriptRejected(f"more than {limits.MAX_ENGINE_STEPS} elements completed in one step, last "
                                     f"{bpmn_id!r}: a loop with no wait state? (ITSMFLOW_MAX_ENGINE_STEPS)")

        self.engine.evidence = []
        try:
            self.workflow.do_engine_steps(did_complete_task=did_complete)
        except MODEL_FAULTS as exc:
            log.error = self._describe_error(exc)
        log.decisions.extend(self.engine.evidence)
        for event in self.workflow.get_events():
            payload = event.payload
            if isinstance(payload, dict) and "payload" in payload:
                payload = payload["payload"]
            log.thrown.append(Thrown(event.event_definition.name, json_safe(payload)))
        return log

    def _describe_error(self, exc: Exception) -> dict[str, Any]:
        failed = self.workflow.get_tasks(state=TaskState.ERROR)
        element = failed[0].task_spec.bpmn_id if failed else getattr(getattr(exc, "task", None), "bpmn_id", None)
        message = str(exc)
        cause = getattr(exc, "exception", None) or exc.__cause__
        if cause is not None and str(cause) and str(cause) not in message:
            message = f"{message}: {cause}"
        return {"element_id": element, "message": message, "type": type(exc).__name__}

    def run(self) -> StepLog:
        return self._engine_steps(StepLog())

    def complete(self, task_id: str, values: dict[str, Any]) -> StepLog:
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (TaskNotFoundException, ValueError):  # gone from the tree (done and compacted away) or not an id
            raise LookupError(task_id) from None
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise LookupError(task_id)
        log = StepLog()
        data = dict(task.data)
        data.update(values)
        task.data = data
        try:
            task.run()
        except MODEL_FAULTS as exc:  # a post-script or output mapping failed
            log.error = self._describe_error(exc)
            return log
        log.completed.append(Completed(task.task_spec.bpmn_id, task_id, _previous_element(task)))
        return self._engine_steps(log)

    def fire_timers(self) -> StepLog:
        self.workflow.refresh_timers()
        log = self._engine_steps(StepLog())
        if log.error is None:
            # A cycle timer's last repetition only finishes its event at the next refresh: do it now, at the
            # same moment, instead of leaving the event waiting with no time to wake it.
            self.workflow.refresh_timers()
            more = self._engine_steps(StepLog())
            log.completed += more.completed
            log.decisions += more.decisions
            log.thrown += more.thrown
            log.error = more.error
        return log

    def update_data(self, changes: dict[str, Any]) -> list[str]:
        """An administrator's edit of the record's data: applied to every live task. Returns their elements."""
        touched = []
        for task in self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
            data = dict(task.data)
            data.update(changes)
            task.data = data
            touched.append(task.task_spec.bpmn_id)
        return touched

    def deliver(self, name: str, payload: Any) -> StepLog:
        definition = MessageEventDefinition(name)
        event = BpmnEvent(definition, payload={"payload": payload, "result_var": name.replace(".", "_")})
        try:
            self.workflow.send_event(event)
        except WorkflowException as exc:
            raise LookupError(f"nothing in this instance waits for {name}") from exc
        return self._engine_steps(StepLog())

    def retry(self) -> StepLog:
        for task in self.workflow.get_tasks(state=TaskState.ERROR):
            task._set_state(TaskState.READY)
        return self._engine_steps(StepLog())

    def cancel(self) -> None:
        self.workflow.cancel()

    # --- what the host reads after a step ------------------------------------------------------------
    def ready_tasks(self) -> list[ReadyTask]:
        return [
            ReadyTask(str(t.id), t.task_spec.bpmn_id, t.task_spec.bpmn_name or t.task_spec.bpmn_id, t.data,
                      _previous_element(t))
            for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)
            if t.task_spec.bpmn_id is not None
        ]

    def waiting(self) -> list[Waiting]:
        result = []
        for task in self.workflow.event_manager.tasks.values():
            if not task.has_state(TaskState.WAITING):
                continue
            definition = task.task_spec.event_definition
            # An event-based gateway waits on several events at once: report each, so the host subscribes to
            # its messages and wakes it for its timers.
            for item in getattr(definition, "event_definitions", None) or [definition]:
                details = item.details(task)
                result.append(Waiting(task.task_spec.bpmn_id, str(details.event_type), str(details.name),
                                      details.value))
        return result

    def has_errors(self) -> bool:
        return bool(self.workflow.get_tasks(state=TaskState.ERROR))

    def is_completed(self) -> bool:
        return self.workflow.is_completed()

    def data(self) -> dict[str, Any]:
        if self.workflow.is_completed() and self.workflow.last_task is not None:
            return dict(self.workflow.last_task.data)
        merged: dict[str, Any] = {}
        tasks = self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.ERROR)
        source = tasks or ([self.workflow.last_task] if self.workflow.last_task else [])
        for task in source:
            merged.update(task.data)
        return merged
