"""Moving a running workflow onto another version of its process, element by element.

SpiffWorkflow 3.2 re-points a workflow's tasks to a new spec (`migrate_workflow`, which resets and re-predicts
the READY and WAITING ones). Its `SpecDiff` also guesses counterparts by structure when an id is gone; we do not
use that guess: it happily moves a record waiting at a removed step onto whatever task now stands in that place
(even one the record already did). Elements map by the same id, or by the owner's explicit map, nothing else.
What the host adds:
- an instance can move only when every task it still holds, live or finished, has a counterpart of the same kind
  in the target version: the state is restored by spec name, so a task without one would make it unreadable;
- a reset forgets what a task knew: the due time of a timer that has not changed, the element a task came from
  (compact.py keeps it in internal data), data an administrator edited on a live task. Those are put back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.util.diff import migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.spiff import serializer

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
RESET = TaskState.READY | TaskState.WAITING  # what migrate_workflow resets, dropping what it predicted below
TIMER_KEYS = ("event_value", "event_fired")
# Internal task specs that SpiffWorkflow derives from an element and names after it.
DERIVED = (".BoundaryEventSplit", ".BoundaryEventJoin", ".EndJoin")


@dataclass
class LiveElement:
    element_id: str
    name: str
    kind: str
    state: str
    target: str | None
    how: str  # "same id", "mapped", "missing", "other kind"

    def to_dict(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "name": self.name, "kind": self.kind, "state": self.state,
                "target": self.target, "how": self.how}


@dataclass
class Plan:
    live: list[LiveElement] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # live elements whose definition differs in the target

    @property
    def movable(self) -> bool:
        return not self.reasons

    def mapping(self) -> dict[str, str]:
        return {e.element_id: e.target for e in self.live if e.target is not None}


def _kind(spec: Any) -> str:
    return type(spec).__name__


def _target_name(name: str, mapping: dict[str, str]) -> str:
    if name in mapping:
        return mapping[name]
    for suffix in DERIVED:
        if name.endswith(suffix) and name[: -len(suffix)] in mapping:
            return mapping[name[: -len(suffix)]] + suffix
    return name


def _align(original: Any, new: Any, mapping: dict[str, str]) -> dict[Any, Any]:
    """Old task spec -> new task spec (or None), by id or by the owner's map."""
    return {spec: new.task_specs.get(_target_name(name, mapping)) for name, spec in original.task_specs.items()}


class _Diff:
    """The shape `migrate_workflow` reads: task -> its new spec."""

    def __init__(self, alignment: dict[Any, Any]) -> None:
        self.alignment = alignment


def _workflows(workflow: BpmnWorkflow) -> list[tuple[Any, Any | None]]:
    """The top workflow and each subworkflow it holds, with the spec each would have in the target."""
    return [(workflow, None)] + [(sp, sp.spec.name) for sp in workflow.subprocesses.values()]


def plan(workflow: BpmnWorkflow, spec: Any, subprocess_specs: dict[str, Any], mapping: dict[str, str]) -> Plan:
    """Whether `workflow` can move onto `spec`, and how each element it waits in maps."""
    result = Plan()
    for wf, sub_name in _workflows(workflow):
        target_spec = spec if sub_name is None else subprocess_specs.get(sub_name)
        if target_spec is None:
            result.reasons.append(f"the subprocess {sub_name!r} it is inside is not in the target version")
            continue
        alignment = _align(wf.spec, target_spec, mapping)
        for task in wf.tasks.values():
            if task.has_state(TaskState.PREDICTED_MASK | TaskState.FUTURE) and _under_reset(task):
                continue  # dropped and predicted again from the target's diagram when its live ancestor resets
            new = alignment.get(task.task_spec)
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            live = task.has_state(LIVE)
            if live and bpmn_id is not None:
                result.live.append(_live(task, new, mapping))
            if new is None:
                what = f"{bpmn_id or task.task_spec.name}"
                if live:
                    state = TaskState.get_name(task.state).lower()
                    result.reasons.append(f"{what} ({state}) has no counterpart in the target version: map it to "
                                          "an element of that version")
                else:
                    result.reasons.append(f"{what}, which the instance has passed and still holds, has no "
                                          "counterpart in the target version: map it to an element of that version")
            elif _kind(new) != _kind(task.task_spec):
                result.reasons.append(f"{bpmn_id or task.task_spec.name} is a {_kind(task.task_spec)} but its "
                                      f"counterpart {new.name} is a {_kind(new)}")
            elif live and bpmn_id is not None and _differs(task.task_spec, new):
                result.changed.append(bpmn_id)
        if any(t.has_state(TaskState.ERROR) for t in wf.tasks.values()):
            result.reasons.append("an element is in error: retry or fix the instance first")
    result.reasons = list(dict.fromkeys(result.reasons))
    result.changed = sorted(set(result.changed))
    return result


def _under_reset(task: Any) -> bool:
    parent = task.parent
    while parent is not None:
        if parent.has_state(RESET):
            return True
        parent = parent.parent
    return False


def _live(task: Any, new: Any, mapping: dict[str, str]) -> LiveElement:
    bpmn_id = task.task_spec.bpmn_id
    target = getattr(new, "bpmn_id", None) if new is not None else None
    if new is None:
        how = "missing"
    elif _kind(new) != _kind(task.task_spec):
        how = "other kind"
    else:
        how = "mapped" if bpmn_id in mapping else "same id"
    return LiveElement(bpmn_id, task.task_spec.bpmn_name or bpmn_id, _kind(task.task_spec),
                       TaskState.get_name(task.state).lower(), target, how)


def _differs(old: Any, new: Any) -> bool:
    def shape(spec: Any) -> dict[str, Any]:
        dct = serializer.SERIALIZER.registry.convert(spec)
        return {k: v for k, v in dct.items() if k not in ("inputs", "outputs", "name", "bpmn_id")}

    return shape(old) != shape(new)


def apply(workflow: BpmnWorkflow, spec: Any, subprocess_specs: dict[str, Any], mapping: dict[str, str]) -> Plan:
    """Moves the workflow in place; raises ValueError (with the reasons) when it cannot move."""
    result = plan(workflow, spec, subprocess_specs, mapping)
    if not result.movable:
        raise ValueError("; ".join(result.reasons))
    kept = _remember(workflow)
    changed_specs = set(result.changed)
    for wf, sub_name in _workflows(workflow):
        target_spec = spec if sub_name is None else subprocess_specs[sub_name]
        alignment = _align(wf.spec, target_spec, mapping)
        migrate_workflow(_Diff({t: alignment[t.task_spec] for t in wf.tasks.values()}), wf, target_spec)
    workflow.subprocess_specs = subprocess_specs
    _restore(workflow, kept, changed_specs)
    return result


def _remember(workflow: BpmnWorkflow) -> dict[UUID, tuple[str, dict[str, Any], dict[str, Any]]]:
    """What a reset forgets, for every live task: its element, its internal data and its data."""
    return {t.id: (t.task_spec.name, dict(t.internal_data), dict(t.data))
            for t in workflow.get_tasks(state=LIVE)}


def _restore(workflow: BpmnWorkflow, kept: dict[UUID, tuple[str, dict[str, Any], dict[str, Any]]],
             changed: set[str]) -> None:
    merged: dict[str, Any] = {}
    for _, _, data in kept.values():
        merged.update(data)
    for task in workflow.get_tasks(state=LIVE):
        before = kept.get(task.id)
        if before is not None:
            name, internal, _ = before
            same_timer = name == task.task_spec.name and name not in changed
            for key, value in internal.items():
                if key not in TIMER_KEYS or same_timer:
                    task.internal_data[key] = value
        data = dict(task.data)
        data.update(merged)
        task.data = data
