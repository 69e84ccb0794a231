"""Reads what the host needs from a BPMN document (lxml only, no engine): elements, lanes, roles, forms."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree

from engine.diagram.forms import CONSTRAINTS, FormField

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}

ROLES = (
    "requester", "service_desk", "resolver", "problem_team", "change_manager", "cab",
    "executive_sponsor", "implementer", "release_manager", "process_owner", "auditor", "admin",
    "integration",
)
HUMAN_KINDS = ("userTask", "manualTask", "task")
FLOW_NODE_KINDS = (
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
    "receiveTask", "callActivity", "subProcess", "startEvent", "endEvent", "intermediateCatchEvent",
    "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
    "eventBasedGateway",
)


def role_for_lane(lane_name: str, mapping: dict[str, str] | None = None) -> str | None:
    """A lane maps to a role by the process's mapping, or by its own name ("Service desk" -> service_desk)."""
    if mapping and lane_name in mapping:
        return mapping[lane_name]
    normal = re.sub(r"[\s\-]+", "_", lane_name.strip().lower())
    return normal if normal in ROLES else None


@dataclass
class ElementMeta:
    id: str
    kind: str
    name: str
    process_id: str
    lane: str | None = None
    roles: list[str] = field(default_factory=list)
    assignee: str | None = None
    form: list[FormField] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    decision_ref: str | None = None
    timer: dict[str, str] | None = None
    message: str | None = None
    called_element: str | None = None
    attached_to: str | None = None
    interrupting: bool = True
    script: str | None = None

    @property
    def is_human(self) -> bool:
        return self.kind in HUMAN_KINDS

    @property
    def is_approval(self) -> bool:
        return self.properties.get("approval", "").lower() == "true"

    def to_dict(self) -> dict[str, Any]:
        dct = asdict(self)
        dct["form"] = [f.to_dict() for f in self.form]
        return dct

    @classmethod
    def from_dict(cls, dct: dict[str, Any]) -> ElementMeta:
        dct = dict(dct)
        dct["form"] = [FormField.from_dict(f) for f in dct.get("form", [])]
        return cls(**dct)


@dataclass
class FlowMeta:
    id: str
    source: str
    target: str
    name: str = ""
    condition: str | None = None


@dataclass
class ProcessMeta:
    id: str
    name: str
    executable: bool
    elements: dict[str, ElementMeta] = field(default_factory=dict)
    flows: dict[str, FlowMeta] = field(default_factory=dict)
    lanes: dict[str, str | None] = field(default_factory=dict)
    # The process's own camunda:properties, in document order and with repeats: what services need to know
    # about the process (engine/diagram/declarations.py reads them).
    properties: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "executable": self.executable,
            "elements": {k: v.to_dict() for k, v in self.elements.items()},
            "flows": {k: asdict(v) for k, v in self.flows.items()},
            "lanes": self.lanes, "properties": [list(p) for p in self.properties],
        }

    @classmethod
    def from_dict(cls, dct: dict[str, Any]) -> ProcessMeta:
        return cls(
            id=dct["id"], name=dct["name"], executable=dct["executable"],
            elements={k: ElementMeta.from_dict(v) for k, v in dct["elements"].items()},
            flows={k: FlowMeta(**v) for k, v in dct["flows"].items()},
            lanes=dct["lanes"], properties=[(str(n), str(v)) for n, v in dct.get("properties", [])],
        )

    def message_starts(self) -> list[str]:
        return [e.message for e in self.elements.values() if e.kind == "startEvent" and e.message]


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _text(el: etree._Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    return el.text.strip() or None


def _form_fields(node: etree._Element) -> list[FormField]:
    fields = []
    for xf in node.iterfind(".//camunda:formData/camunda:formField", NS):
        fld = FormField(
            id=xf.get("id", ""), label=xf.get("label") or xf.get("id", ""), type=xf.get("type", "string"),
            default=xf.get("defaultValue"),
        )
        fld.options = [
            {"id": v.get("id", ""), "name": v.get("name") or v.get("id", "")}
            for v in xf.iterfind("camunda:value", NS)
        ]
        for constraint in xf.iterfind("camunda:validation/camunda:constraint", NS):
            _constraint(fld, constraint.get("name", ""), constraint.get("config"))
        for prop in xf.iterfind("camunda:properties/camunda:property", NS):
            if prop.get("id") == "secret" or prop.get("name") == "secret":
                fld.secret = (prop.get("value") or "").lower() == "true"
        fields.append(fld)
    return fields


def _constraint(fld: FormField, name: str, config: str | None) -> None:
    """Applies one camunda:constraint; what cannot be applied is kept on the field, refused at deploy."""
    if name not in CONSTRAINTS:
        fld.unreadable.append(f"constraint {name!r} is not supported (use {', '.join(CONSTRAINTS)})")
    elif name in ("required", "readonly"):
        setattr(fld, name, (config or "true").strip().lower() != "false")
    elif config is None or not config.strip():
        fld.unreadable.append(f"constraint {name!r} needs a value (config)")
    elif name == "after":
        fld.after = config.strip()
    elif name in ("min", "max"):
        try:
            number = float(config)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            fld.unreadable.append(f"constraint {name!r} must be a number, got {config!r}")
        else:
            setattr(fld, name, number)
    else:
        try:
            count = int(config)
        except ValueError:
            count = -1
        if count < 0:
            fld.unreadable.append(f"constraint {name!r} must be a whole number of characters, got {config!r}")
        else:
            setattr(fld, name, count)


def _properties(node: etree._Element) -> dict[str, str]:
    return {
        p.get("name", ""): p.get("value", "")
        for p in node.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS)
    }


def _timer(node: etree._Element) -> dict[str, str] | None:
    ted = node.find("bpmn:timerEventDefinition", NS)
    if ted is None:
        return None
    for kind in ("timeDuration", "timeDate", "timeCycle"):
        expr = _text(ted.find(f"bpmn:{kind}", NS))
        if expr is not None:
            return {"kind": kind, "expression": expr}
    return {"kind": "missing", "expression": ""}


def _message(root: etree._Element, node: etree._Element) -> str | None:
    med = node.find("bpmn:messageEventDefinition", NS)
    ref = med.get("messageRef") if med is not None else node.get("messageRef")
    if ref is None:
        return None
    for msg in root.iterfind(".//bpmn:message", NS):
        if msg.get("id") == ref:
            return msg.get("name") or ref
    return ref


def read_processes(root: etree._Element, lane_mapping: dict[str, str] | None = None) -> dict[str, ProcessMeta]:
    processes: dict[str, ProcessMeta] = {}
    for proc in root.iterfind("bpmn:process", NS):
        pm = ProcessMeta(
            id=proc.get("id", ""), name=proc.get("name") or proc.get("id", ""),
            executable=proc.get("isExecutable", "false") == "true",
        )
        pm.properties = [(p.get("name", ""), p.get("value", "")) for p in
                         proc.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS)]
        lane_of: dict[str, str] = {}
        for lane in proc.iterfind(".//bpmn:lane", NS):
            lane_name = lane.get("name") or lane.get("id", "")
            pm.lanes[lane_name] = role_for_lane(lane_name, lane_mapping)
            for ref in lane.iterfind("bpmn:flowNodeRef", NS):
                if ref.text:
                    lane_of[ref.text.strip()] = lane_name
        _read_nodes(root, proc, pm, lane_of)
        processes[pm.id] = pm
    return processes


def _read_nodes(root: etree._Element, container: etree._Element, pm: ProcessMeta, lane_of: dict[str, str]) -> None:
    for node in container:
        if not isinstance(node.tag, str):
            continue
        kind = _local(node)
        if kind == "sequenceFlow":
            cond = _text(node.find("bpmn:conditionExpression", NS))
            pm.flows[node.get("id", "")] = FlowMeta(
                id=node.get("id", ""), source=node.get("sourceRef", ""), target=node.get("targetRef", ""),
                name=node.get("name", ""), condition=cond,
            )
            continue
        if kind not in FLOW_NODE_KINDS:
            continue
        el_id = node.get("id", "")
        lane = lane_of.get(el_id)
        el = ElementMeta(id=el_id, kind=kind, name=node.get("name") or el_id, process_id=pm.id, lane=lane)
        el.properties = _properties(node)
        groups = node.get(f"{{{CAMUNDA_NS}}}candidateGroups")
        if groups:
            el.roles = [g.strip() for g in groups.split(",") if g.strip()]
        elif lane is not None and (role := pm.lanes.get(lane)):
            el.roles = [role]
        el.assignee = node.get(f"{{{CAMUNDA_NS}}}assignee")
        if kind in HUMAN_KINDS or kind == "startEvent":  # a start event's form: what a person starting it fills
            el.form = _form_fields(node)
        el.decision_ref = node.get(f"{{{CAMUNDA_NS}}}decisionRef")
        el.timer = _timer(node)
        el.message = _message(root, node)
        el.called_element = node.get("calledElement")
        el.attached_to = node.get("attachedToRef")
        el.interrupting = node.get("cancelActivity", "true") != "false"
        el.script = _text(node.find("bpmn:script", NS))
        pm.elements[el_id] = el
        if kind == "subProcess":
            _read_nodes(root, node, pm, lane_of)
