"""Conformance: each instance's audit trail replayed against the diagram version it is pinned to.

The rules (docs/audit.md explains each and why it is sound):
- task_not_made_ready: a task.completed with no earlier task.ready for that task id, or for an element that is not
  a human task of the instance's version;
- approval_skipped: the trail reaches an element that the model only reaches through an approval task before
  any approval was completed, or the instance completed without an approval after a decision demanded one;
- wrong_approver: the first approval completed after a decision naming an `approver` was not a task for, or
  not done by a holder of, the role that the decision demanded;
- self_approval: an approval completed by the record's requester (starter, `requester` or `reporter`, as the
  trail knew them at that moment);
- self_approval also covers the process's separation-of-duties table (engine/services/duties.py): an approval by
  the record's assessor, implementer or whoever set its routing facts;
- class_not_matching_facts and the kinds a process declares as `deviation.<kind>`: engine/services/
  conformance_rights.py;
- sla_breach_unescalated: a human task completed after its due time while none of its boundary timers fired;
- data_edited: an administrator changed the record's data (admin.data_edited), with the reason given.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from engine.db.database import UnitOfWork
from engine.db.models import AuditEvent, ProcessInstance, ProcessVersion
from engine.diagram import declarations
from engine.diagram.declarations import Declarations
from engine.diagram.metadata import ProcessMeta
from engine.services import conformance_rights, duties

RULES = {
    "task_not_made_ready": "a task was completed that the model did not make ready",
    "approval_skipped": "work went past an approval the model or the decision rights demand",
    "wrong_approver": "approved by a role other than the one the decision rights demanded",
    "self_approval": "the requester approved their own record",
    "sla_breach_unescalated": "a task finished after its due time and its escalation timer never fired",
    "data_edited": "an administrator edited the record's data",
    "class_not_matching_facts": "a value the tables decide (such as the change class) is not what they decided",
}
REQUESTER_KEYS = ("requester", "reporter", "started_by")
BATCH = 200


@dataclass
class Deviation:
    rule: str
    message: str
    instance_id: int | None = None
    business_key: str | None = None
    process: str | None = None
    version: int | None = None
    seq: int | None = None
    at: datetime | None = None
    element_id: str | None = None
    actor: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "message": self.message, "instance_id": self.instance_id,
                "business_key": self.business_key, "process": self.process, "version": self.version,
                "seq": self.seq, "at": self.at.isoformat() if self.at else None, "element_id": self.element_id,
                "actor": self.actor, "details": self.details}


@dataclass
class Model:
    """What the rules need from one deployed version."""

    meta: ProcessMeta
    declarations: Declarations  # approver values -> roles, and the values that need no approval
    approvals: frozenset[str]
    gated: frozenset[str]
    timers_on: dict[str, frozenset[str]]
    has_call_activity: bool


@dataclass
class Ev:
    seq: int
    at: datetime
    actor: str
    type: str
    element_id: str | None
    data: dict[str, Any]


def approval_gated(meta: ProcessMeta, approvals: frozenset[str]) -> frozenset[str]:
    """Elements reachable from a start only by completing an approval task first.

    Walks the sequence flows from every start event (and every element nothing flows into), without leaving
    an approval task by its outgoing flows; a boundary event counts as reachable once its host is (a timer on
    an approval escalates without the approval). What the walk never reaches is gated. Embedded subprocess
    contents are reached from their own start events, so the result errs towards fewer gated elements."""
    if not approvals:
        return frozenset()
    succ: dict[str, list[str]] = defaultdict(list)
    boundaries: dict[str, list[str]] = defaultdict(list)
    entered: set[str] = set()
    for flow in meta.flows.values():
        succ[flow.source].append(flow.target)
        entered.add(flow.target)
    for el in meta.elements.values():
        if el.attached_to:
            boundaries[el.attached_to].append(el.id)
            entered.add(el.id)
    roots = [el.id for el in meta.elements.values() if el.kind == "startEvent" or el.id not in entered]
    seen, stack = set(roots), list(roots)
    while stack:
        node = stack.pop()
        following = boundaries[node] + ([] if node in approvals else succ[node])
        for nxt in following:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return frozenset(set(meta.elements) - seen)


def build_model(meta: ProcessMeta) -> Model:
    approvals = frozenset(el.id for el in meta.elements.values() if el.is_human and el.is_approval)
    timers: dict[str, set[str]] = defaultdict(set)
    for el in meta.elements.values():
        if el.attached_to and el.timer is not None:
            timers[el.attached_to].add(el.id)
    return Model(meta, declarations.read(meta), approvals, approval_gated(meta, approvals),
                 {k: frozenset(v) for k, v in timers.items()},
                 any(el.kind == "callActivity" for el in meta.elements.values()))


def _when(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _names(data: dict[str, Any]) -> set[str]:
    return {v for k in REQUESTER_KEYS if isinstance(v := data.get(k), str) and v}


class Replay:
    """One instance's trail, event by event, against its model."""

    def __init__(self, inst: ProcessInstance, model: Model) -> None:
        self.inst, self.model = inst, model
        self.found: list[Deviation] = []
        self.ready: dict[str, Ev] = {}
        self.fired: list[tuple[str, int]] = []
        self.requesters: set[str] = {inst.started_by}
        self.approvals_done = 0
        self.demand: dict[str, Any] | None = None  # the latest decision naming an approver
        self.gated_reported = False
        self.load: Callable[[int], Model] | None = None  # another version's model, for a migrated instance
        self.uow: UnitOfWork | None = None  # to ask the separation-of-duties table
        self.decided: dict[str, Any] = {}  # the last value each decision output took
        self.approved_roles: set[str] = set()

    def flag(self, rule: str, ev: Ev, message: str, **details: Any) -> None:
        self.found.append(Deviation(rule, message, self.inst.id, self.inst.business_key, self.inst.process_key,
                                    self.inst.version, ev.seq, ev.at, ev.element_id, ev.actor, details))

    def run(self, events: list[Ev]) -> list[Deviation]:
        for ev in events:
            handler = getattr(self, "on_" + ev.type.replace(".", "_"), None)
            flow = self.model.meta.flows.get(str(ev.data.get("flow")))
            if flow is not None and self.model.meta.elements.get(flow.source) is not None:
                source = self.model.meta.elements[flow.source]
                if source.attached_to and source.timer is not None:  # a cycle timer's branch, without timer.fired
                    self.fired.append((source.id, ev.seq))
            if ev.element_id and ev.type in ("element.completed", "task.ready", "task.completed"):
                self.check_gated(ev)
            if handler is not None:
                handler(ev)
        return self.found

    def check_gated(self, ev: Ev) -> None:
        if ev.element_id in self.model.gated and self.approvals_done == 0 and not self.gated_reported:
            self.gated_reported = True
            self.flag("approval_skipped", ev, f"{ev.element_id} is reached only through an approval "
                      f"({', '.join(sorted(self.model.approvals))}), and none was completed before it",
                      approvals=sorted(self.model.approvals))

    def on_instance_started(self, ev: Ev) -> None:
        self.requesters |= {ev.actor} | _names(ev.data.get("data") or {})

    def on_instance_migrated(self, ev: Ev) -> None:
        """Moved to another version (engine/services/migration.py): what follows is read against that one."""
        if self.load is not None and isinstance(ev.data.get("to_version_id"), int):
            self.model = self.load(ev.data["to_version_id"])

    def on_task_ready(self, ev: Ev) -> None:
        self.ready[str(ev.data.get("task_id"))] = ev

    def on_timer_fired(self, ev: Ev) -> None:
        self.fired.append((ev.element_id or "", ev.seq))

    def on_admin_data_edited(self, ev: Ev) -> None:
        changes = ev.data.get("changes") or {}
        self.requesters |= _names({k: v.get("new") for k, v in changes.items() if isinstance(v, dict)})
        self.flag("data_edited", ev, f"{ev.actor} changed {', '.join(sorted(changes))}: {ev.data.get('reason')}",
                  keys=sorted(changes), reason=ev.data.get("reason"))

    def on_decision_evaluated(self, ev: Ev) -> None:
        outputs = (ev.data.get("evaluation") or {}).get("outputs") or {}
        self.decided.update(outputs)
        if "approver" not in outputs:
            return
        approver = outputs["approver"]
        values = approver if isinstance(approver, list) else [approver]
        decl = self.model.declarations
        required = outputs.get("approval_required")
        if not isinstance(required, bool):
            required = any(str(v) not in decl.approval_not_needed for v in values)
        self.demand = {"seq": ev.seq, "approver": approver, "decision": ev.data.get("decision"),
                       "version": ev.data.get("version"), "required": required, "approved": False,
                       "roles": sorted({decl.role_for_approver(v) for v in values})}

    def on_instance_completed(self, ev: Ev) -> None:
        data = json.loads(self.inst.data_json or "{}")
        for name, held, decided in conformance_rights.decided_mismatches(self.model.declarations, self.decided, data):
            self.flag("class_not_matching_facts", ev, f"{name} is {held!r}, but " + (
                f"the tables decided {decided!r}" if decided is not None else "no table ever decided it"),
                field=name, held=held, decided=decided)
        for rule in conformance_rights.declared(self.model.meta):
            why = conformance_rights.unmet(rule, data, self.approved_roles)
            if why:
                self.flag(rule.kind, ev, f"{rule.kind.replace('_', ' ')}: {why} ({rule.text})", declared=rule.text)
        if self.demand and self.demand["required"] and not self.demand["approved"]:
            self.flag("approval_skipped", ev, f"decision {self.demand['decision']} (seq {self.demand['seq']}) "
                      f"demanded approval by {self.demand['approver']}, and the record completed without one",
                      decision_seq=self.demand["seq"], approver=self.demand["approver"])

    def on_task_completed(self, ev: Ev) -> None:
        task_id = str(ev.data.get("task_id"))
        el = self.model.meta.elements.get(ev.element_id or "")
        ready = self.ready.pop(task_id, None)
        if ready is None:
            self.flag("task_not_made_ready", ev, f"task {task_id} ({ev.element_id}) was completed, but the trail "
                      "never shows it made ready", task_id=task_id)
        elif (el is None and not self.model.has_call_activity) or (el is not None and not el.is_human):
            self.flag("task_not_made_ready", ev, f"{ev.element_id} is not a human task of {self.inst.process_key} "
                      f"v{self.inst.version}", task_id=task_id)
        if ev.data.get("approval") or ev.element_id in self.model.approvals:
            self.check_approval(ev)
        if ready is not None:
            self.check_sla(ev, ready)
        self.requesters |= _names(ev.data.get("form") or {}) - {"********"}

    def check_approval(self, ev: Ev) -> None:
        self.approvals_done += 1
        if (ev.data.get("form") or {}).get("approved") is not False:
            self.approved_roles |= set(ev.data.get("roles") or [])
        if ev.actor in self.requesters - {"system"}:
            self.flag("self_approval", ev, f"{ev.actor} approved {ev.element_id} of their own record",
                      requesters=sorted(self.requesters - {"system"}))
        elif self.uow is not None and self.model.declarations.separation_of_duties:
            verdict = duties.judge(self.uow, self.inst.id, ev.actor, ev.element_id or "", before_seq=ev.seq)
            if not verdict.allowed:
                self.flag("self_approval", ev, f"{ev.actor} approved {ev.element_id}: {verdict.reason}",
                          relation=verdict.relation)
        demand = self.demand
        if demand is None or demand["approved"]:
            return
        demand["approved"] = True
        task_roles, actor_roles = set(ev.data.get("roles") or []), ev.data.get("actor_roles")
        expected = set(demand["roles"])
        details = {"approver": demand["approver"], "expected_roles": sorted(expected), "task_roles": sorted(task_roles),
                   "actor_roles": actor_roles, "decision_seq": demand["seq"]}
        if not expected & task_roles:
            self.flag("wrong_approver", ev, f"decision {demand['decision']} demanded {demand['approver']}, but the "
                      f"approval went to a task for {', '.join(sorted(task_roles)) or 'no role'}", **details)
        elif actor_roles is not None and not expected & set(actor_roles):
            self.flag("wrong_approver", ev, f"decision {demand['decision']} demanded {demand['approver']}, but "
                      f"{ev.actor} does not hold {', '.join(sorted(expected))}", **details)

    def check_sla(self, ev: Ev, ready: Ev) -> None:
        due = _when(ready.data.get("due_at"))
        if due is None or ev.at <= due:
            return
        timers = self.model.timers_on.get(ev.element_id or "", frozenset())
        if any(el in timers and ready.seq < seq < ev.seq for el, seq in self.fired):
            return
        self.flag("sla_breach_unescalated", ev, f"{ev.element_id} was due {due.isoformat()} and completed "
                  f"{ev.at.isoformat()}, but no escalation timer fired", due_at=due.isoformat(),
                  timers=sorted(timers))


def _events(uow: UnitOfWork, ids: list[int]) -> dict[int, list[Ev]]:
    stmt = select(AuditEvent).where(AuditEvent.instance_id.in_(ids)).order_by(AuditEvent.instance_id, AuditEvent.seq)
    grouped: dict[int, list[Ev]] = defaultdict(list)
    for row in uow.session.execute(stmt).scalars():
        grouped[row.instance_id or 0].append(Ev(row.seq, row.at, row.actor, row.type, row.element_id,
                                                json.loads(row.data_json)))
    return grouped


def _instances(uow: UnitOfWork, process: str | None, start: datetime | None,
               end: datetime | None) -> Iterator[list[ProcessInstance]]:
    stmt = select(ProcessInstance).order_by(ProcessInstance.id)
    if process:
        stmt = stmt.where(ProcessInstance.process_key == process)
    if end is not None:
        stmt = stmt.where(ProcessInstance.started_at < end)
    if start is not None:
        stmt = stmt.where(or_(ProcessInstance.ended_at.is_(None), ProcessInstance.ended_at >= start))
    after = 0
    while True:
        batch = list(uow.session.execute(stmt.where(ProcessInstance.id > after).limit(BATCH)).scalars())
        if not batch:
            return
        yield batch
        after = batch[-1].id


def report(uow: UnitOfWork, process: str | None = None, start: datetime | None = None,
           end: datetime | None = None) -> list[Deviation]:
    """Deviations of every instance (of `process`) whose events fall in [start, end), oldest first."""
    models: dict[int, Model] = {}

    def model_of(version_id: int) -> Model:
        if version_id not in models:
            row = uow.session.get(ProcessVersion, version_id)
            assert row is not None
            models[version_id] = build_model(ProcessMeta.from_dict(json.loads(row.meta_json)))
        return models[version_id]

    found: list[Deviation] = []
    for batch in _instances(uow, process, start, end):
        trails = _events(uow, [i.id for i in batch])
        for inst in batch:
            trail = trails.get(inst.id, [])
            # A migrated instance's trail starts on the version it was started on.
            moved = next((e for e in trail if e.type == "instance.migrated"), None)
            first = moved.data.get("from_version_id") if moved is not None else None
            replay = Replay(inst, model_of(first if isinstance(first, int) else inst.process_version_id))
            replay.load = model_of
            replay.uow = uow
            found.extend(replay.run(trail))
    found = [d for d in found if d.at is None or ((start is None or d.at >= start) and (end is None or d.at < end))]
    return sorted(found, key=lambda d: (d.seq or 0, d.rule))


def summary(deviations: list[Deviation]) -> dict[str, int]:
    counts = {rule: 0 for rule in RULES}
    for d in deviations:
        counts[d.rule] = counts.get(d.rule, 0) + 1
    return counts


def table(deviations: list[Deviation]) -> str:
    """A plain text table for the terminal."""
    if not deviations:
        return "no deviations"
    header = ("rule", "record", "seq", "element", "actor", "at", "what")
    rows = [(d.rule, d.business_key or "", str(d.seq or ""), d.element_id or "", d.actor or "",
             d.at.strftime("%Y-%m-%d %H:%M") if d.at else "", d.message) for d in deviations]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for r in [header, *rows]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])
    lines.append(f"{len(deviations)} deviation(s): " + ", ".join(f"{k} {v}" for k, v in summary(deviations).items()
                                                                  if v))
    return "\n".join(lines)
