"""The parser flavour: Camunda (what bpmn-js with the Camunda moddle writes), with our business rule task,
service tasks as external tasks, and Camunda-style message send/receive tasks."""

from __future__ import annotations

import re
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import ReceiveTaskParser, SendTaskParser
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.defaults import (
    ParallelMultiInstanceTask,
    ReceiveTask,
    SendTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import CamundaEventDefinitionParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, CamundaTaskParser

from engine.spiff.specs import ExternalTask, RuleTask

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class RuleTaskParser(CamundaTaskParser):
    @staticmethod
    def get_decision_ref(node: Any) -> str | None:
        return node.get(f"{{{CAMUNDA_MODEL_NS}}}decisionRef") or node.get("calledDecisionId")

    def create_task(self) -> RuleTask:
        ref = self.get_decision_ref(self.node) or ""
        if not ref:
            self.raise_validation_exception("A business rule task needs camunda:decisionRef")
        return RuleTask(self.spec, self.bpmn_id, decision_ref=ref, **self.bpmn_attributes)


def external_topic(node: Any) -> str:
    """The topic workers fetch this service task by: camunda:topic, a SpiffWorkflow service operator's id, or
    else the element's own id (a service task with no implementation waits for a worker of that name)."""
    topic = node.get(f"{{{CAMUNDA_MODEL_NS}}}topic")
    if topic:
        return topic.strip()
    for ext in node.iter(f"{{{SPIFF_NS}}}serviceTaskOperator"):
        if ext.get("id"):
            return str(ext.get("id")).strip()
    return str(node.get("id", ""))


class ExternalTaskParser(CamundaTaskParser):
    def create_task(self) -> ExternalTask:
        return ExternalTask(self.spec, self.bpmn_id, topic=external_topic(self.node), **self.bpmn_attributes)


class CamundaSendTaskParser(CamundaEventDefinitionParser, SendTaskParser):
    def create_task(self) -> Any:
        return SendTaskParser.create_task(self)


class CamundaReceiveTaskParser(CamundaEventDefinitionParser, ReceiveTaskParser):
    def create_task(self) -> Any:
        return ReceiveTaskParser.create_task(self)


def variable_name(text: str) -> str | None:
    """`${name}` or `name` -> name; anything else -> None."""
    inner = text.strip()
    if inner.startswith("${") and inner.endswith("}"):
        inner = inner[2:-1].strip()
    return inner if _NAME.match(inner) else None


class HostMultiInstance:
    """Camunda's multi-instance attributes (camunda:collection, camunda:elementVariable, loopCardinality) as the
    engine's plain multi-instance tasks. Why not SpiffWorkflow's Camunda classes: they rewrite the shared spec
    while running and write the results over the input collection."""

    def _add_multiinstance_task(self, loop: Any) -> None:
        parser: Any = self
        collection = loop.get(f"{{{CAMUNDA_MODEL_NS}}}collection")
        if collection is None and parser.xpath("./bpmn:multiInstanceLoopCharacteristics/bpmn:loopDataInputRef"):
            TaskParser._add_multiinstance_task(parser, loop)  # BPMN's own data input form (SpiffWorkflow's)
            return
        card_nodes = parser.xpath("./bpmn:multiInstanceLoopCharacteristics/bpmn:loopCardinality")
        cardinality = (card_nodes[0].text or "").strip() if card_nodes else None
        if not cardinality and collection is None:
            parser.raise_validation_exception(
                "A multi-instance task needs a loopCardinality or a camunda:collection")
        source = None
        if collection is not None:
            source = variable_name(collection)
            if source is None:
                parser.raise_validation_exception(
                    f"camunda:collection {collection!r} must name a variable, as in ${{reviewers}}")
        element = loop.get(f"{{{CAMUNDA_MODEL_NS}}}elementVariable")
        cond_nodes = parser.xpath("./bpmn:multiInstanceLoopCharacteristics/bpmn:completionCondition")
        original = parser.spec.task_specs.pop(parser.task.name)
        params = {
            "task_spec": "", "cardinality": None if source else cardinality,
            "data_input": TaskDataReference(source) if source else None, "data_output": None,
            "input_item": TaskDataReference(element) if element else None, "output_item": None,
            "condition": (cond_nodes[0].text or "").strip() or None if cond_nodes else None,
        }
        cls = SequentialMultiInstanceTask if loop.get("isSequential") == "true" else ParallelMultiInstanceTask
        parser.task = cls(parser.spec, original.name, **params)
        parser._copy_task_attrs(original, loop)


def _with_host_multi_instance(classes: dict[str, tuple[Any, Any]]) -> dict[str, tuple[Any, Any]]:
    return {tag: (type(f"Host{parser.__name__}", (HostMultiInstance, parser), {}), spec)
            for tag, (parser, spec) in classes.items()}


class HostParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = _with_host_multi_instance({
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("businessRuleTask"): (RuleTaskParser, RuleTask),
        full_tag("serviceTask"): (ExternalTaskParser, ExternalTask),
        full_tag("sendTask"): (CamundaSendTaskParser, SendTask),
        full_tag("receiveTask"): (CamundaReceiveTaskParser, ReceiveTask),
    })


def parse_specs(root: Any, filename: str, process_id: str,
                called: list[tuple[Any, str]] | None = None) -> tuple[Any, dict[str, Any]]:
    """Parses one BPMN document (an lxml root already checked for hostile content) into engine specs, with the
    documents of processes it calls in other files."""
    parser = HostParser()
    for callee_root, callee_name in called or []:
        parser.add_bpmn_xml(callee_root, filename=callee_name)
    parser.add_bpmn_xml(root, filename=filename)
    spec = parser.get_spec(process_id)
    subprocess_specs = parser.get_subprocess_specs(process_id)
    return spec, subprocess_specs


__all__ = ["ValidationException", "parse_specs", "HostParser", "external_topic"]
