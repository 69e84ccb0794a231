"""Serialization: the spec once per deployed version, each instance without it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.task_spec import MultiInstanceTaskConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.defaults import ParallelMultiInstanceTask as DefaultParallelMI
from SpiffWorkflow.bpmn.specs.defaults import SequentialMultiInstanceTask as DefaultSequentialMI
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition as DefaultMessageEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG

from engine.spiff.specs import ExternalTask, ExternalTaskConverter, RuleTask, RuleTaskConverter

SPEC_KEY = "_specs"


class LeanWorkflowConverter(BpmnWorkflowConverter):
    """Like the default, but leaves the spec out; the host supplies the cached spec objects on restore."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        spec, subprocess_specs = dct.pop(SPEC_KEY)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _config() -> dict[Any, Any]:
    config = dict(CAMUNDA_CONFIG)
    config[RuleTask] = RuleTaskConverter
    config[ExternalTask] = ExternalTaskConverter
    config[BpmnWorkflow] = LeanWorkflowConverter
    return config


_registry = BpmnWorkflowSerializer.configure(_config())
# The Camunda flavour replaces these classes with its own of the same names, yet some of its parsers (script,
# send and receive tasks) still build the plain ones: register those under names of their own.
MultiInstanceTaskConverter(DefaultParallelMI, _registry, "BpmnParallelMultiInstanceTask")
MultiInstanceTaskConverter(DefaultSequentialMI, _registry, "BpmnSequentialMultiInstanceTask")
MessageEventDefinitionConverter(DefaultMessageEventDefinition, _registry, "BpmnMessageEventDefinition")
SERIALIZER = BpmnWorkflowSerializer(_registry)
STATE_VERSION = SERIALIZER.VERSION


def spec_to_dict(spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, Any]:
    return {
        "spec": _registry.convert(spec),
        "subprocess_specs": {name: _registry.convert(s) for name, s in subprocess_specs.items()},
    }


def spec_from_dict(dct: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    spec = _registry.restore(dct["spec"])
    subs = {name: _registry.restore(s) for name, s in dct["subprocess_specs"].items()}
    return spec, subs


def state_to_dict(workflow: BpmnWorkflow) -> dict[str, Any]:
    dct = _registry.convert(workflow)
    dct[SERIALIZER.VERSION_KEY] = STATE_VERSION
    return dct


def state_from_dict(dct: dict[str, Any], spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    dct = dict(dct)
    version = dct.pop(SERIALIZER.VERSION_KEY, None)
    if version != STATE_VERSION:
        raise ValueError(f"instance state has serializer version {version}, this engine reads {STATE_VERSION}")
    dct[SPEC_KEY] = (spec, subprocess_specs)
    return _registry.restore(dct)
