"""Task specs of our own: a business rule task that asks the host's rules engine (engine/rules), and a service
task that waits for an external worker."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.serializer.helpers.spec import TaskSpecConverter
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin


class RuleTask(BpmnSpecMixin):
    """Evaluates the decision in force when it runs; outputs are merged into the task data."""

    def __init__(self, wf_spec: Any, bpmn_id: str, decision_ref: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.decision_ref = decision_ref

    def _run_hook(self, my_task: Any) -> bool:
        engine = my_task.workflow.top_workflow.script_engine
        outputs = engine.evaluate_decision(my_task, self.decision_ref)
        data = dict(my_task.data)  # reassign, never mutate: task data is shared with siblings
        data.update(outputs)
        my_task.data = data
        return super()._run_hook(my_task)


class RuleTaskConverter(TaskSpecConverter):
    def to_dict(self, spec: RuleTask) -> dict[str, Any]:
        dct = self.get_default_attributes(spec)
        dct["decision_ref"] = spec.decision_ref
        return dct

    def from_dict(self, dct: dict[str, Any]) -> RuleTask:
        return self.task_spec_from_dict(dct)


class ExternalTask(BpmnSpecMixin):
    """A service task done by an external worker (Camunda's external task pattern): when it runs it only
    waits, STARTED, until the host completes it with the worker's variables or throws the worker's error."""

    def __init__(self, wf_spec: Any, bpmn_id: str, topic: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic

    def _run_hook(self, my_task: Any) -> bool | None:
        return None  # STARTED: the host lists it for the workers of its topic


class ExternalTaskConverter(TaskSpecConverter):
    def to_dict(self, spec: ExternalTask) -> dict[str, Any]:
        dct = self.get_default_attributes(spec)
        dct["topic"] = spec.topic
        return dct

    def from_dict(self, dct: dict[str, Any]) -> ExternalTask:
        return self.task_spec_from_dict(dct)
