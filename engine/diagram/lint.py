"""Warnings about a diagram that deploys but will likely surprise its owner. They never refuse a deployment
(engine/diagram/validate.py lists the problems that do); the modeller shows them before deploying.

- disconnected: an element a record can never reach, or one where its path stops without an end event;
- no_role: a task nobody can do (no lane role, no candidate group, no assignee), or whose roles no active user
  holds, so it would wait forever in nobody's inbox;
- no_default: a gateway that chooses by conditions without a default flow: when no condition holds, the record
  stops in error;
- timer_without_escalation: a boundary timer whose path reaches no task, message, escalation or declared
  notification, so nobody learns that the time passed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from lxml import etree

from engine.diagram.metadata import HUMAN_KINDS, NS, ElementMeta, ProcessMeta

Warning = dict[str, Any]
EVERYONE = "requester"  # every user holds it
# Reaching one of these tells someone: a person's task, a message or signal to another process or system, an
# escalation event, an external worker or another process.
TELLS_KINDS = ("userTask", "manualTask", "task", "sendTask", "serviceTask", "callActivity")
TELLS_DEFINITIONS = ("messageEventDefinition", "escalationEventDefinition", "signalEventDefinition")


def _warn(kind: str, el: ElementMeta, message: str) -> Warning:
    return {"element_id": el.id, "kind": kind, "message": f"{el.name}: {message}"}


def _nodes_by_id(root: etree._Element) -> dict[str, etree._Element]:
    return {n.get("id", ""): n for n in root.iter() if isinstance(n.tag, str) and n.get("id")}


def lint_process(root: etree._Element, pm: ProcessMeta, held_roles: frozenset[str] | None = None) -> list[Warning]:
    """Warnings for one process of a parsed document; `held_roles` (the roles active users hold) enables the
    check that someone can claim each task."""
    nodes = _nodes_by_id(root)
    incoming: dict[str, list[str]] = defaultdict(list)
    outgoing: dict[str, list[str]] = defaultdict(list)
    for flow in pm.flows.values():
        outgoing[flow.source].append(flow.id)
        incoming[flow.target].append(flow.id)
    warnings: list[Warning] = []
    warnings += _disconnected(pm, nodes, incoming, outgoing)
    warnings += _roles(pm, held_roles)
    warnings += _defaults(pm, nodes, outgoing)
    warnings += _silent_timers(pm, nodes)
    return warnings


def _exempt(node: etree._Element | None) -> bool:
    """Elements that live outside the sequence flow: event subprocesses and compensation handlers."""
    if node is None:
        return False
    return node.get("triggeredByEvent") == "true" or node.get("isForCompensation") == "true"


def _disconnected(pm: ProcessMeta, nodes: dict[str, etree._Element], incoming: dict[str, list[str]],
                  outgoing: dict[str, list[str]]) -> list[Warning]:
    warnings = []
    flagged = set()
    for el in pm.elements.values():
        node = nodes.get(el.id)
        if _exempt(node) or (node is not None and node.find("bpmn:compensateEventDefinition", NS) is not None):
            continue
        needs_in = el.kind not in ("startEvent", "boundaryEvent")
        needs_out = el.kind != "endEvent"
        if needs_in and not incoming[el.id]:
            warnings.append(_warn("disconnected", el, "no sequence flow leads here, so no record ever reaches it"))
            flagged.add(el.id)
        elif needs_out and not outgoing[el.id]:
            warnings.append(_warn("disconnected", el, "no sequence flow leaves it, so a record stops here "
                                  "without reaching an end event"))
            flagged.add(el.id)
    for el_id in _unreachable(pm, nodes) - flagged:
        el = pm.elements[el_id]
        warnings.append(_warn("disconnected", el, "no path from a start event reaches it"))
    return warnings


def _unreachable(pm: ProcessMeta, nodes: dict[str, etree._Element]) -> set[str]:
    succ: dict[str, list[str]] = defaultdict(list)
    boundaries: dict[str, list[str]] = defaultdict(list)
    for flow in pm.flows.values():
        succ[flow.source].append(flow.target)
    for el in pm.elements.values():
        if el.attached_to:
            boundaries[el.attached_to].append(el.id)
    roots = [el.id for el in pm.elements.values() if el.kind == "startEvent" or _exempt(nodes.get(el.id))]
    seen, stack = set(roots), list(roots)
    while stack:
        for nxt in succ[stack[-1]] + boundaries[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return {el.id for el in pm.elements.values() if el.id not in seen and el.kind != "boundaryEvent"}


def _roles(pm: ProcessMeta, held: frozenset[str] | None) -> list[Warning]:
    warnings = []
    for el in pm.elements.values():
        if el.kind not in HUMAN_KINDS:
            continue
        if not el.roles and not el.assignee:
            warnings.append(_warn("no_role", el, "no lane role, candidate group or assignee: nobody can do it"))
        elif held is not None and el.roles and not el.assignee:
            if not any(role == EVERYONE or role in held for role in el.roles):
                warnings.append(_warn("no_role", el, f"no active user holds {' or '.join(el.roles)}, so it would "
                                      "wait in nobody's inbox"))
    return warnings


def _defaults(pm: ProcessMeta, nodes: dict[str, etree._Element], outgoing: dict[str, list[str]]) -> list[Warning]:
    warnings = []
    for el in pm.elements.values():
        if el.kind not in ("exclusiveGateway", "inclusiveGateway") or len(outgoing[el.id]) < 2:
            continue
        node = nodes.get(el.id)
        if node is None or not node.get("default"):
            warnings.append(_warn("no_default", el, "no default flow: when none of its conditions holds, the "
                                  "record stops in error"))
    return warnings


def _tells(el: ElementMeta, node: etree._Element | None) -> bool:
    if el.kind in TELLS_KINDS or el.properties.get("notification"):  # a declared notification tells people
        return True
    return node is not None and any(node.find(f"bpmn:{d}", NS) is not None for d in TELLS_DEFINITIONS) \
        and el.kind in ("intermediateThrowEvent", "endEvent")


def _silent_timers(pm: ProcessMeta, nodes: dict[str, etree._Element]) -> list[Warning]:
    succ: dict[str, list[str]] = defaultdict(list)
    for flow in pm.flows.values():
        succ[flow.source].append(flow.target)
    warnings = []
    for el in pm.elements.values():
        if not (el.attached_to and el.timer is not None):
            continue
        seen, stack, tells = {el.id}, list(succ[el.id]), False
        while stack and not tells:
            current = stack.pop()
            if current in seen or current == el.attached_to:
                continue
            seen.add(current)
            target = pm.elements.get(current)
            if target is not None and _tells(target, nodes.get(current)):
                tells = True
            stack.extend(succ[current])
        if not tells:
            warnings.append(_warn("timer_without_escalation", el, "when it fires, its path reaches no task, message "
                                  "or escalation, so nobody learns that the time passed"))
    return warnings
