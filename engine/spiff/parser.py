"""The parser flavour: Camunda (what bpmn-js with the Camunda moddle writes), with our business rule task."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, CamundaTaskParser

from engine.spiff.specs import RuleTask


class RuleTaskParser(CamundaTaskParser):
    @staticmethod
    def get_decision_ref(node: Any) -> str | None:
        return node.get(f"{{{CAMUNDA_MODEL_NS}}}decisionRef") or node.get("calledDecisionId")

    def create_task(self) -> RuleTask:
        ref = self.get_decision_ref(self.node)
        if not ref:
            self.raise_validation_exception("A business rule task needs camunda:decisionRef")
        return RuleTask(self.spec, self.bpmn_id, decision_ref=ref, **self.bpmn_attributes)


class HostParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("businessRuleTask"): (RuleTaskParser, RuleTask),
    }


def parse_specs(root: Any, filename: str, process_id: str) -> tuple[Any, dict[str, Any]]:
    """Parses one BPMN document (an lxml root already checked for hostile content) into engine specs."""
    parser = HostParser()
    parser.add_bpmn_xml(root, filename=filename)
    spec = parser.get_spec(process_id)
    subprocess_specs = parser.get_subprocess_specs(process_id)
    return spec, subprocess_specs


__all__ = ["ValidationException", "parse_specs", "HostParser"]
