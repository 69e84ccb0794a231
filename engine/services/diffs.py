"""What changed between two versions of a process, element by element: for the diff view and for the
"preview before deploying" step of the modeller. Compares what the engine reads from a diagram (ProcessMeta:
kinds, names, lanes and roles, forms, properties, decisions, timers, messages, flows and their conditions),
not the layout, so moving a shape is not a change but editing a form field is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from engine.db.database import UnitOfWork
from engine.diagram.metadata import ElementMeta, FlowMeta, ProcessMeta, read_processes
from engine.diagram.xmlsafe import UnsafeXml, parse_xml
from engine.errors import BadRequest
from engine.services import deploy, policy
from engine.services.actors import Actor

DRAFT = "draft"

# Element attributes compared, with the words a person reads in the diff.
_ELEMENT_FIELDS: tuple[tuple[str, str], ...] = (
    ("kind", "type"), ("name", "name"), ("lane", "lane"), ("roles", "candidate roles"), ("assignee", "assignee"),
    ("decision_ref", "decision"), ("timer", "timer"), ("message", "message"), ("called_element", "called process"),
    ("attached_to", "attached to"), ("interrupting", "interrupting"), ("script", "script"),
)
_FIELD_ATTRS = ("label", "type", "required", "readonly", "default", "options", "min", "max", "minlength",
                "maxlength", "secret")


@dataclass
class Change:
    what: str
    before: Any = None
    after: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "before": self.before, "after": self.after}


@dataclass
class ElementDiff:
    id: str
    name: str
    kind: str
    changes: list[Change] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "changes": [c.to_dict() for c in self.changes]}


@dataclass
class VersionDiff:
    key: str
    base: int | None
    target: int | str
    added: list[ElementDiff] = field(default_factory=list)
    removed: list[ElementDiff] = field(default_factory=list)
    changed: list[ElementDiff] = field(default_factory=list)
    lanes: list[Change] = field(default_factory=list)
    process: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.lanes or self.process)

    def ids(self, which: str) -> list[str]:
        return [e.id for e in getattr(self, which)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "base": self.base, "target": self.target, "empty": self.empty,
            "added": [e.to_dict() for e in self.added], "removed": [e.to_dict() for e in self.removed],
            "changed": [e.to_dict() for e in self.changed], "lanes": [c.to_dict() for c in self.lanes],
            "process": [c.to_dict() for c in self.process],
        }


def _kind_label(kind: str) -> str:
    out = "".join(f" {c.lower()}" if c.isupper() else c for c in kind)
    return out.strip()


def _node(el: ElementMeta) -> ElementDiff:
    return ElementDiff(el.id, el.name, _kind_label(el.kind))


def _flow(fl: FlowMeta) -> ElementDiff:
    return ElementDiff(fl.id, fl.name or f"{fl.source} → {fl.target}", "sequence flow")


def _form_changes(before: ElementMeta, after: ElementMeta) -> list[Change]:
    old = {f.id: f.to_dict() for f in before.form}
    new = {f.id: f.to_dict() for f in after.form}
    changes = [Change(f"form field {fid} added", None, new[fid]["type"]) for fid in new if fid not in old]
    changes += [Change(f"form field {fid} removed", old[fid]["type"], None) for fid in old if fid not in new]
    for fid in (f for f in new if f in old):
        for attr in _FIELD_ATTRS:
            if old[fid].get(attr) != new[fid].get(attr):
                changes.append(Change(f"form field {fid}: {attr}", old[fid].get(attr), new[fid].get(attr)))
    if [f for f in old if f in new] != [f for f in new if f in old]:
        changes.append(Change("form field order", [f for f in old if f in new], [f for f in new if f in old]))
    return changes


def _element_changes(before: ElementMeta, after: ElementMeta) -> list[Change]:
    changes = [Change(label, getattr(before, attr), getattr(after, attr))
               for attr, label in _ELEMENT_FIELDS if getattr(before, attr) != getattr(after, attr)]
    changes += _form_changes(before, after)
    for prop in sorted(set(before.properties) | set(after.properties)):
        if before.properties.get(prop) != after.properties.get(prop):
            changes.append(Change(f"property {prop}", before.properties.get(prop), after.properties.get(prop)))
    return changes


def _flow_changes(before: FlowMeta, after: FlowMeta) -> list[Change]:
    return [Change(attr, getattr(before, attr), getattr(after, attr))
            for attr in ("source", "target", "name", "condition") if getattr(before, attr) != getattr(after, attr)]


def compare(key: str, old: ProcessMeta | None, new: ProcessMeta, base: int | None, target: int | str) -> VersionDiff:
    """The differences between two readings of a process. `old` None means everything is added."""
    diff = VersionDiff(key, base, target)
    old_elements = old.elements if old else {}
    old_flows = old.flows if old else {}
    for el_id, el in new.elements.items():
        if el_id not in old_elements:
            diff.added.append(_node(el))
        else:
            changes = _element_changes(old_elements[el_id], el)
            if changes:
                diff.changed.append(ElementDiff(el.id, el.name, _kind_label(el.kind), changes))
    diff.removed += [_node(el) for el_id, el in old_elements.items() if el_id not in new.elements]
    for fl_id, fl in new.flows.items():
        if fl_id not in old_flows:
            diff.added.append(_flow(fl))
        else:
            changes = _flow_changes(old_flows[fl_id], fl)
            if changes:
                diff.changed.append(ElementDiff(fl.id, _flow(fl).name, "sequence flow", changes))
    diff.removed += [_flow(fl) for fl_id, fl in old_flows.items() if fl_id not in new.flows]
    if old is not None:
        for lane in sorted(set(old.lanes) | set(new.lanes)):
            if old.lanes.get(lane) != new.lanes.get(lane):
                what = ("lane added" if lane not in old.lanes else "lane removed" if lane not in new.lanes
                        else "lane role")
                diff.lanes.append(Change(f"{what}: {lane}", old.lanes.get(lane), new.lanes.get(lane)))
        if old.name != new.name:
            diff.process.append(Change("process name", old.name, new.name))
        if old.executable != new.executable:
            diff.process.append(Change("executable", old.executable, new.executable))
    return diff


def _meta(uow: UnitOfWork, key: str, version: int) -> ProcessMeta:
    return ProcessMeta.from_dict(json.loads(deploy.get_version(uow, key, version).meta_json))


def versions(uow: UnitOfWork, actor: Actor, key: str, base: int, target: int) -> VersionDiff:
    """Deployed version `base` against deployed version `target` (either order; base 0 = nothing)."""
    policy.require(actor, "compare_versions")
    old = _meta(uow, key, base) if base > 0 else None
    return compare(key, old, _meta(uow, key, target), base or None, target)


def draft(uow: UnitOfWork, actor: Actor, key: str, bpmn: bytes, base: int | None = None) -> VersionDiff:
    """An edited diagram, not yet deployed, against the latest (or the given) deployed version of `key`.
    Lanes are read with the base version's lane mapping, so lanes.json mappings do not show as changes."""
    policy.require(actor, "deploy")
    row = deploy.latest(uow, key) if base is None else deploy.get_version(uow, key, base)
    old = ProcessMeta.from_dict(json.loads(row.meta_json)) if row is not None else None
    mapping = {lane: role for lane, role in (old.lanes if old else {}).items() if role}
    try:
        root = parse_xml(bpmn, "the diagram")
    except UnsafeXml as exc:
        raise BadRequest(str(exc)) from None
    new = read_processes(root, mapping).get(key)
    if new is None:
        raise BadRequest(f"the diagram has no process with id {key!r}")
    return compare(key, old, new, row.version if row is not None else None, DRAFT)


def lane_mapping(uow: UnitOfWork, key: str) -> dict[str, str]:
    """The lane -> role mapping the latest version was deployed with: a redeploy from the modeller sends it
    again, so lanes named otherwise than their role (lanes.json) keep their role."""
    row = deploy.latest(uow, key)
    if row is None:
        return {}
    meta = ProcessMeta.from_dict(json.loads(row.meta_json))
    return {lane: role for lane, role in meta.lanes.items() if role}
