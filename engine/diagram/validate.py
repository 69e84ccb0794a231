"""Deploy-time checks on a diagram's content that the engine's parser does not make."""

from __future__ import annotations

from typing import Any

from engine.diagram.forms import check_definition
from engine.diagram.metadata import ROLES, ProcessMeta

Problem = dict[str, Any]
# What the database stores of an element, and how long each may be (the columns' sizes): PostgreSQL would
# refuse a longer one at the first step that writes it, long after deploy.
MAX_ID, MAX_NAME, MAX_LANE = 200, 200, 100


def check_process(pm: ProcessMeta, known_decisions: set[str], known_processes: set[str],
                  compile_expression: Any, compile_script: Any, literal_timer: Any) -> list[Problem]:
    problems: list[Problem] = []

    def add(element_id: str | None, message: str) -> None:
        problems.append({"element_id": element_id, "message": message})

    for lane, role in pm.lanes.items():
        if role is None:
            add(None, f"lane {lane!r} does not map to a role (roles: {', '.join(ROLES)}; or add it to lanes.json)")
    for lane in pm.lanes:
        if len(lane) > MAX_LANE:
            add(None, f"lane name {lane[:40]!r}... is longer than {MAX_LANE} characters")
    for el in pm.elements.values():
        if len(el.id) > MAX_ID:
            add(el.id[:40], f"element id is longer than {MAX_ID} characters")
        if el.name and len(el.name) > MAX_NAME:
            add(el.id, f"name of {el.kind} is {len(el.name)} characters long; at most {MAX_NAME} are allowed")
        if el.message and len(el.message) > MAX_NAME:
            add(el.id, f"message name is longer than {MAX_NAME} characters")
        if el.is_human and el.kind != "task":
            if not el.roles and not el.assignee:
                add(el.id, f"{el.kind} {el.name!r} has no lane or camunda:candidateGroups, so nobody can do it")
            for role in el.roles:
                if role not in ROLES:
                    add(el.id, f"candidate group {role!r} is not a role")
            seen: set[str] = set()
            for fld in el.form:
                if fld.id in pm.elements or fld.id in pm.flows:
                    # The engine's parser looks ids up across the whole file and then fails obscurely.
                    add(el.id, f"form field {fld.id!r} has the same id as a diagram element; rename one of them")
                for message in check_definition(fld):
                    add(el.id, message)
                if fld.id in seen:
                    add(el.id, f"form field {fld.id!r} appears twice")
                seen.add(fld.id)
        if el.kind == "businessRuleTask":
            if not el.decision_ref:
                add(el.id, "business rule task has no camunda:decisionRef")
            elif el.decision_ref not in known_decisions:
                add(el.id, f"decision {el.decision_ref!r} is not deployed and not in this bundle")
        if el.script is not None:
            _compiles(compile_script, el.script, el.id, "script", add)
        if el.timer is not None:
            expr = el.timer["expression"]
            if not expr:
                add(el.id, "timer has no duration, date or cycle")
            elif literal_timer(expr) is None:
                _compiles(compile_expression, expr, el.id, f"timer {el.timer['kind']} {expr!r}", add)
        if el.kind in ("intermediateCatchEvent", "receiveTask", "startEvent") and el.message == "":
            add(el.id, "message event without a message name")
    for flow in pm.flows.values():
        if flow.condition:
            _compiles(compile_expression, flow.condition, flow.id, f"condition {flow.condition!r}", add)
    return problems


def _compiles(compiler: Any, text: str, element_id: str, what: str, add: Any) -> None:
    try:
        compiler(text)
    except Exception as exc:  # noqa: BLE001 - every compile failure is a problem to list, whatever its type
        add(element_id, f"{what} is not allowed or does not compile: {exc}")
