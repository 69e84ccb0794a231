"""Path replay: the same diagram run by RAW SpiffWorkflow in memory, to compare with what the trail says.

The raw run uses SpiffWorkflow's own BpmnWorkflow and its plain Python script environment: no host Runner, no
compaction (the whole task tree is kept), no serialization, no audit. Shared with the system are only the parser
flavour (our Camunda parser, so business rule tasks exist) and the decision tables, evaluated by engine.rules.
The flows the raw run took are read from its full task tree afterwards, not from step callbacks.

Scenario tests reuse it:

    raw, key = run_both(db, xml, "p", {"x": 1}, [Complete("review", {"ok": True}), Fire(hours=5), Auto()])
    assert_trail_matches(db, key, raw)
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import time_machine
from lxml import etree
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.db.database import Database, unit_of_work
from engine.rules import parse_dmn
from engine.services import audit, instances, specs, tasks, timers
from engine.services.actors import Actor
from engine.spiff.parser import parse_specs
from tests.conftest import IVAN
from tests.support import AUDITOR, open_tasks

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
ISO_TEXT = re.compile(r"^(R\d*/)?P[0-9YMWDTHS.]+$|^\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:?\d\d)?$")
VARIABLE = re.compile(r"^\$\{\s*(\w+)\s*\}$")
REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


class RawEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's plain eval environment, reading Camunda timer text (`PT4H`, `${target}`) as the host does."""

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict | None = None) -> Any:
        text = expression.strip()
        if ISO_TEXT.match(text):
            return text
        var = VARIABLE.match(text)
        return super().evaluate(var.group(1) if var else expression, context, external_context)


class RawScriptEngine(PythonScriptEngine):
    def __init__(self, tables: dict[str, bytes]) -> None:
        super().__init__(environment=RawEnvironment())
        self.models = {key: parse_dmn(xml) for key, xml in tables.items()}

    def evaluate(self, task: Any, expression: Any, external_context: dict | None = None) -> Any:
        if expression is None:  # a Camunda message without an expression carries the sender's data
            return json.loads(json.dumps(task.data, default=str))
        return super().evaluate(task, expression, external_context)

    def evaluate_decision(self, task: Any, decision_ref: str) -> dict[str, Any]:
        return dict(self.models[decision_ref].evaluate(decision_ref, dict(task.data)).outputs)


def tables_in(folder: Path) -> dict[str, bytes]:
    """decision id -> DMN XML, for every table of a process folder."""
    found = {}
    for dmn in sorted(folder.glob("*.dmn")):
        for decision_id in parse_dmn(dmn.read_bytes()).decisions:
            found[decision_id] = dmn.read_bytes()
    return found


def _previous(task: Any) -> Any:
    parent = task.parent
    while parent is not None and getattr(parent.task_spec, "bpmn_id", None) is None:
        parent = parent.parent
    return parent


class RawRun:
    """One workflow in memory, driven step by step; records the order in which elements completed."""

    def __init__(self, bpmn: bytes, process_id: str, tables: dict[str, bytes] | None = None) -> None:
        root = etree.fromstring(bpmn)
        spec, subprocess_specs = parse_specs(root, "raw.bpmn", process_id)
        flows = list(root.iter(f"{BPMN}sequenceFlow"))
        self.flow_ids = {(f.get("sourceRef"), f.get("targetRef")): f.get("id") for f in flows}
        self.joins = {t for t, n in Counter(f.get("targetRef") for f in flows).items() if n > 1}
        names = {m.get("id"): m.get("name") for m in root.iter(f"{BPMN}message")}
        self.start_message = next((names.get(d.get("messageRef")) for s in root.iter(f"{BPMN}startEvent")
                                   for d in s.iter(f"{BPMN}messageEventDefinition")), None)
        self.wf = BpmnWorkflow(spec, subprocess_specs, script_engine=RawScriptEngine(tables or {}))
        self.completed: list[str] = []
        self._ready_seen: set[Any] = set()

    def _did_complete(self, task: Any) -> None:
        if task.task_spec.bpmn_id is not None:
            self.completed.append(task.task_spec.bpmn_id)

    def _steps(self) -> None:
        self.wf.do_engine_steps(did_complete_task=self._did_complete)
        self._ready_seen |= {t.id for t in self.wf.get_tasks(state=TaskState.READY, manual=True)}

    def start(self, data: dict[str, Any]) -> None:
        self.wf.task_tree.data.update(data)
        self._steps()
        if self.start_message:  # a process with a message start gets its start data as that message
            payload = {"payload": data, "result_var": self.start_message.replace(".", "_")}
            self.wf.send_event(BpmnEvent(MessageEventDefinition(self.start_message), payload=payload))
            self._steps()

    def complete(self, element_id: str, values: dict[str, Any]) -> None:
        ready = [t for t in self.wf.get_tasks(state=TaskState.READY, manual=True)
                 if t.task_spec.bpmn_id == element_id]
        assert ready, f"the raw engine has no ready {element_id}: {sorted(self.active())}"
        task = ready[0]
        task.data = {**task.data, **values}
        task.run()
        self.completed.append(element_id)
        self._steps()

    def fire(self) -> None:
        # As the host's worker does (Runner.fire_timers): refresh, step, and refresh once more at the same moment
        # so a cycle timer's last repetition finishes its event.
        self.wf.refresh_timers()
        self._steps()
        self.wf.refresh_timers()
        self._steps()

    def all_tasks(self) -> list[Any]:
        """Every task of the full tree, with those of subprocesses (kept apart by SpiffWorkflow)."""
        found = list(self.wf.tasks.values())
        for sub in self.wf.subprocesses.values():
            found.extend(sub.tasks.values())
        return found

    def history(self) -> Counter[str]:
        """Every completed element in the full, never compacted task tree."""
        return Counter(t.task_spec.bpmn_id for t in self.all_tasks()
                       if t.has_state(TaskState.COMPLETED) and t.task_spec.bpmn_id is not None)

    def taken_flows(self) -> Counter[str]:
        """Read from the full tree: a flow A->B was taken each time a B below a fired A completed, or opened as a
        human task. (A join's branch arrivals are cancelled when the join fires, but their tokens did arrive.
        Like the path, this leaves out flows into elements still waiting: a join, a catch event, a subprocess.)"""
        taken: Counter[str] = Counter()
        fired = set(self.history())
        for task in self.all_tasks():
            target = task.task_spec.bpmn_id
            if target is None:
                continue
            arrived = task.has_state(TaskState.COMPLETED) or (
                task.has_state(TaskState.READY | TaskState.CANCELLED) and task.id in self._ready_seen) or (
                task.has_state(TaskState.CANCELLED) and target in self.joins and target in fired)
            source = _previous(task)
            # the source fired: completed, or a cycle timer still spawning a branch per repetition
            if arrived and source is not None and source.has_state(REACHED):
                flow = self.flow_ids.get((source.task_spec.bpmn_id, target))
                if flow is not None:
                    taken[flow] += 1
        return taken

    def active(self) -> set[str]:
        return {t.task_spec.bpmn_id for t in self.wf.get_tasks(state=TaskState.READY, manual=True)}

    def is_completed(self) -> bool:
        return self.wf.is_completed()


@dataclass
class Complete:
    element_id: str
    data: dict[str, Any] = field(default_factory=dict)
    actor: Actor | None = None


@dataclass
class Fire:
    """Move the clock forward (from the start of the scenario) and fire due timers."""

    hours: float = 0
    minutes: float = 0
    days: float = 0


@dataclass
class Auto:
    """Complete whatever human task is open (oldest first) with valid values, up to `steps` times. `choices`
    maps field ids to a value, or to a list of values used one after another."""

    steps: int = 40
    choices: dict[str, Any] = field(default_factory=dict)
    until: str | None = None  # stop when a task of this element is open


def _auto_values(fields: list[Any], choices: dict[str, Any], used: Counter[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in fields:
        if f.readonly:
            continue
        if f.id in choices:
            pick = choices[f.id]
            if isinstance(pick, list):
                pick = pick[min(used[f.id], len(pick) - 1)]
                used[f.id] += 1
            values[f.id] = pick
        elif f.required or (f.type == "boolean" and f.default in (None, "")):  # yes/no is always answered
            values[f.id] = {"boolean": False, "date": date.today().isoformat(), "datetime": _window_time(f.id),
                            "long": int(f.min if f.min is not None else 1),
                            "enum": f.default or (f.options[0]["id"] if f.options else "")}.get(f.type, "x")
    return values


def _window_time(field_id: str) -> str:
    """Tomorrow evening; a field named as an end is an hour after the start."""
    day = (date.today() + timedelta(days=1)).isoformat()
    return f"{day}T23:00" if "end" in field_id else f"{day}T22:00"


def _actor_for(task: dict[str, Any], starter: Actor) -> Actor:
    if "requester" in task["roles"] and not task["assignee"]:
        return starter  # a requester-lane task is offered to the record's own requester only
    return Actor(task["assignee"] or f"worker_{task['element_id']}", frozenset(task["roles"]) | {"requester"})


def _accepted_form(db: Database, instance_id: int, task_id: str) -> dict[str, Any]:
    """The values the system accepted (validated, typed, defaults filled): the raw run gets the same input."""
    with unit_of_work(db) as uow:
        done = [e for e in audit.instance_events(uow, instance_id) if e.type == "task.completed"
                and json.loads(e.data_json).get("task_id") == task_id]
    return json.loads(done[-1].data_json)["form"]


def _form(db: Database, instance_id: int, element_id: str) -> list[Any]:
    with unit_of_work(db) as uow:
        inst = instances.find(uow, AUDITOR, instance_id)
        el = specs.loaded(uow, inst.process_version_id).meta.elements.get(element_id)
        return list(el.form) if el else []


def _complete(db: Database, raw: RawRun, inst_id: int, task: dict[str, Any], values: dict[str, Any],
              actor: Actor | None, starter: Actor) -> None:
    tasks.complete(db, actor or _actor_for(task, starter), task["id"], values)
    raw.complete(task["element_id"], _accepted_form(db, inst_id, task["id"]))


def run_both(db: Database, bpmn: str | bytes, process_id: str, data: dict[str, Any], steps: list[Any],
             tables: dict[str, bytes] | None = None, starter: Actor = IVAN) -> tuple[RawRun, str]:
    """Runs a deployed process through the services and the same diagram raw, in lockstep and on the same
    clock. Returns the raw run and the instance's business key."""
    raw = RawRun(bpmn.encode() if isinstance(bpmn, str) else bpmn, process_id, tables)
    base, offset = datetime.now(UTC), timedelta()
    with time_machine.travel(base, tick=False):
        inst = instances.start(db, starter, process_id, data)
        with unit_of_work(db) as uow:
            started = audit.instance_events(uow, inst.id)[0]
        raw.start(json.loads(started.data_json)["data"])
    key = inst.business_key
    for step in steps:
        if isinstance(step, Fire):
            offset = timedelta(days=step.days, hours=step.hours, minutes=step.minutes)
            with time_machine.travel(base + offset, tick=False):
                timers.fire_due(db)
                raw.fire()
            continue
        with time_machine.travel(base + offset, tick=False):
            if isinstance(step, Complete):
                task = next(t for t in open_tasks(db, key) if t["element_id"] == step.element_id)
                _complete(db, raw, inst.id, task, step.data, step.actor, starter)
                continue
            used: Counter[str] = Counter()
            for _ in range(step.steps):
                waiting = open_tasks(db, key)
                if not waiting or any(t["element_id"] == step.until for t in waiting):
                    break
                task = waiting[0]
                _complete(db, raw, inst.id, task, _auto_values(_form(db, inst.id, task["element_id"]),
                                                               step.choices, used), None, starter)
    return raw, key


def assert_trail_matches(db: Database, business_key: str, raw: RawRun, flows: bool = True) -> dict[str, Any]:
    """The path the API shows (computed from the trail) is what the raw engine did."""
    with unit_of_work(db) as uow:
        inst = instances.find(uow, AUDITOR, business_key)
        path = instances.path(uow, inst)
        status = inst.status
    assert path["completed"] == raw.completed, "completed elements differ in order or content"
    assert Counter(path["completed"]) == raw.history(), "the full raw history holds other elements"
    assert raw.active() <= set(path["active"]), "a task ready in the raw engine is not active on the path"
    assert (status == "completed") == raw.is_completed()
    if flows:
        trail_flows, raw_flows = Counter(path["flows"]), raw.taken_flows()
        assert trail_flows == raw_flows, (f"taken flows differ: only on the path {dict(trail_flows - raw_flows)}, "
                                          f"only in the raw engine {dict(raw_flows - trail_flows)}")
    return path
