"""What diagrams from other modellers carry that itsmflow runs differently or not at all, read from the XML:
Java delegates on service tasks (refused, with the external-task form to use instead), message throws without
a message name (refused), and sequence flows without an id (given a stable id, never dropped)."""

from __future__ import annotations

from typing import Any

from lxml import etree

from engine.diagram.metadata import BPMN_NS, CAMUNDA_NS, NS

Problem = dict[str, Any]

JAVA_ATTRIBUTES = ("class", "expression", "delegateExpression")
DELEGATING_KINDS = ("serviceTask", "sendTask", "businessRuleTask")


def _kind(node: etree._Element) -> str:
    return etree.QName(node).localname


def _problem(node: etree._Element, message: str) -> Problem:
    return {"element_id": node.get("id"), "line": node.sourceline, "message": message}


def delegate_problems(root: etree._Element) -> list[Problem]:
    """Service, send and business rule tasks that name Java code; external tasks without a topic."""
    problems = []
    for kind in DELEGATING_KINDS:
        for node in root.iter(f"{{{BPMN_NS}}}{kind}"):
            el_id = node.get("id", "")
            for attr in JAVA_ATTRIBUTES:
                value = node.get(f"{{{CAMUNDA_NS}}}{attr}")
                if value is not None:
                    problems.append(_problem(node, (
                        f"{kind} {el_id!r} calls Java code (camunda:{attr}={value!r}), which itsmflow cannot run. "
                        f'Make it an external task: camunda:type="external" camunda:topic="{el_id}", and let a '
                        "worker do the work over the REST API (docs/api.md, External tasks)")))
            if node.find("bpmn:extensionElements/camunda:connector", NS) is not None:
                problems.append(_problem(node, (
                    f"{kind} {el_id!r} uses a Camunda connector, which itsmflow cannot run. Make it an external "
                    f'task: camunda:type="external" camunda:topic="{el_id}" (docs/api.md, External tasks)')))
            if node.get(f"{{{CAMUNDA_NS}}}type") == "external" and not (node.get(f"{{{CAMUNDA_NS}}}topic") or
                                                                           "").strip():
                problems.append(_problem(node, f'external task {el_id!r} has no camunda:topic: add '
                                               f'camunda:topic="..." naming the work its workers fetch'))
    return problems


def _message_names(root: etree._Element) -> dict[str, str]:
    return {m.get("id", ""): (m.get("name") or "").strip() for m in root.iter(f"{{{BPMN_NS}}}message")}


def message_problems(root: etree._Element) -> list[Problem]:
    """A message sent without a name can reach nobody; a reference to a message that does not exist is a typo."""
    names = _message_names(root)
    problems = []
    for node in root.iter(f"{{{BPMN_NS}}}intermediateThrowEvent", f"{{{BPMN_NS}}}endEvent",
                          f"{{{BPMN_NS}}}sendTask", f"{{{BPMN_NS}}}intermediateCatchEvent",
                          f"{{{BPMN_NS}}}startEvent", f"{{{BPMN_NS}}}boundaryEvent", f"{{{BPMN_NS}}}receiveTask"):
        kind, el_id = _kind(node), node.get("id", "")
        med = node.find("bpmn:messageEventDefinition", NS)
        if med is None and kind not in ("sendTask", "receiveTask"):
            continue
        ref = (med.get("messageRef") if med is not None else None) or node.get("messageRef")
        if ref is not None and ref not in names:
            problems.append(_problem(node, f"{kind} {el_id!r} refers to message {ref!r}, which the file does not "
                                           "define: add <bpmn:message id=\"...\" name=\"...\"/> or fix messageRef"))
            continue
        sends = kind in ("intermediateThrowEvent", "endEvent", "sendTask")
        if sends and (med is not None or ref is not None) and not (ref and names.get(ref)):
            problems.append(_problem(node, f"{kind} {el_id!r} sends a message without a name, so nothing can "
                                           "receive it: reference a bpmn:message that has a name (messageRef)"))
    return problems


def name_unnamed_flows(root: etree._Element) -> list[Problem]:
    """Gives each sequence flow without an id a stable one (from its source and target) instead of letting the
    engine drop it; returns a warning for each."""
    taken = {str(el.get("id")) for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    warnings = []
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        if flow.get("id"):
            continue
        source, target = flow.get("sourceRef", "?"), flow.get("targetRef", "?")
        base = f"Flow_{source}_to_{target}"
        new_id, n = base, 2
        while new_id in taken:
            new_id, n = f"{base}_{n}", n + 1
        flow.set("id", new_id)
        taken.add(new_id)
        warnings.append({"element_id": new_id, "line": flow.sourceline, "kind": "flow_without_id",
                         "message": f"the sequence flow from {source!r} to {target!r} has no id; it was given "
                                    f"the id {new_id!r} (set one in the modeller to keep it stable)"})
    return warnings


EXPRESSION_TAGS = ("condition", "loopCardinality", "completionCondition")
_WRAPPERS = ("conditionalEventDefinition", "multiInstanceLoopCharacteristics")


def _owner(node: etree._Element) -> etree._Element:
    """The diagram element an expression belongs to (the event, not its event definition)."""
    parent = node.getparent()
    while parent is not None and (_kind(parent) in _WRAPPERS or not parent.get("id")):
        if parent.getparent() is None:
            return parent
        parent = parent.getparent()
    return parent if parent is not None else node


def expression_problems(root: etree._Element, check: Any) -> list[Problem]:
    """Conditional events' conditions, multi-instance cardinalities and completion conditions: each must be in
    the JUEL subset (`${...}`) or a Python expression the sandbox accepts."""
    problems = []
    for tag in EXPRESSION_TAGS:
        for node in root.iter(f"{{{BPMN_NS}}}{tag}"):
            text = (node.text or "").strip()
            if not text:
                continue
            try:
                check(text)
            except Exception as exc:  # noqa: BLE001 - every refusal of the checker is a problem to list
                owner = _owner(node)
                problems.append({"element_id": owner.get("id"), "line": node.sourceline,
                                 "message": f"{_kind(owner)} {owner.get('id', '')!r}: {tag} {text!r} is not "
                                            f"allowed: {exc}"})
    return problems


def _gateway_kind(flows: list[etree._Element]) -> str:
    conditioned = any(f.find("bpmn:conditionExpression", NS) is not None for f in flows)
    return "inclusiveGateway" if conditioned else "parallelGateway"


def make_splits_explicit(root: etree._Element) -> list[Problem]:
    """An activity or event with several outgoing flows splits implicitly (BPMN 2.0): in parallel when none has
    a condition, else inclusively (unconditioned flows always taken, the `default` flow when no condition holds).
    The engine only splits at gateways, so a gateway is put after the element, named `<id>__split`; the flows
    keep their ids. Returns a warning per split."""
    warnings = []
    for proc in [*root.iter(f"{{{BPMN_NS}}}process"), *root.iter(f"{{{BPMN_NS}}}subProcess")]:
        flows = [f for f in proc if isinstance(f.tag, str) and _kind(f) == "sequenceFlow"]
        by_source: dict[str, list[etree._Element]] = {}
        for flow in flows:
            by_source.setdefault(flow.get("sourceRef", ""), []).append(flow)
        nodes = {n.get("id"): n for n in proc if isinstance(n.tag, str) and n.get("id")}
        for source, outgoing in by_source.items():
            node = nodes.get(source)
            if node is None or len(outgoing) < 2 or _kind(node).endswith("Gateway"):
                continue
            kind, gw_id = _gateway_kind(outgoing), f"{source}__split"
            gateway = etree.SubElement(proc, f"{{{BPMN_NS}}}{kind}", id=gw_id, name="")
            default = node.get("default")
            if default:
                gateway.set("default", default)
                del node.attrib["default"]
            for flow in outgoing:
                flow.set("sourceRef", gw_id)
                if kind == "inclusiveGateway" and flow.get("id") != default and \
                        flow.find("bpmn:conditionExpression", NS) is None:
                    cond = etree.SubElement(flow, f"{{{BPMN_NS}}}conditionExpression")
                    cond.text = "${true}"
            etree.SubElement(proc, f"{{{BPMN_NS}}}sequenceFlow", id=f"{source}__to_split", sourceRef=source,
                             targetRef=gw_id)
            what = "parallel" if kind == "parallelGateway" else "inclusive (by the flows' conditions)"
            warnings.append({"element_id": source, "line": node.sourceline, "kind": "implicit_split",
                             "message": f"{_kind(node)} {source!r} has {len(outgoing)} outgoing flows: they are "
                                        f"taken as a {what} split; draw a gateway to make it explicit"})
    return warnings


DATA_KINDS = ("dataStoreReference", "dataObjectReference", "dataStore")


def data_warnings(root: etree._Element) -> list[Problem]:
    """Data stores and data object references are documentation to the engine: accepted, with a warning."""
    warnings = []
    for kind in DATA_KINDS:
        for node in root.iter(f"{{{BPMN_NS}}}{kind}"):
            name = " ".join((node.get("name") or node.get("id") or "").split())
            warnings.append({"element_id": node.get("id"), "line": node.sourceline, "kind": "data_as_documentation",
                             "message": f"{kind} {name!r} is kept as documentation: the engine neither reads nor "
                                        "writes it (the record's data is the process variables)"})
    return warnings
