"""What a diagram declares about its service-level clocks (docs/modelling.md, "Service-level clocks").

On the process:  `sla.clocks` (names), `sla.target.<clock>` (the data field holding the clock's ISO 8601
target, default `<clock>_target`), `sla.escalations` (decision key of the escalation levels), `sla.pauses`
(decision key of the pause reasons), `sla.near_breach` (percent of the target, default 75).
On an element:  `sla.start` / `sla.stop` (clock names: the clock starts when the element is entered, stops when
it is left) and `sla.pause` (a reason: while the element's task is open, the clocks the pause table names for
that reason stand still). Nothing here knows a process by name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.diagram.metadata import ProcessMeta

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PROCESS_PROPS = ("sla.clocks", "sla.escalations", "sla.pauses", "sla.near_breach")
ELEMENT_PROPS = ("sla.start", "sla.stop", "sla.pause")
DEFAULT_NEAR_BREACH = 75


@dataclass(frozen=True)
class SlaDeclarations:
    clocks: tuple[str, ...]
    targets: dict[str, str] = field(default_factory=dict)  # clock -> data field with its ISO 8601 target
    starts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # element id -> clocks it starts
    stops: dict[str, tuple[str, ...]] = field(default_factory=dict)  # element id -> clocks it stops
    pauses: dict[str, str] = field(default_factory=dict)  # element id -> pause reason
    escalation_table: str | None = None
    pause_table: str | None = None
    near_breach_percent: int = DEFAULT_NEAR_BREACH

    def to_dict(self) -> dict[str, Any]:
        return {"clocks": list(self.clocks), "targets": self.targets,
                "starts": {k: list(v) for k, v in self.starts.items()},
                "stops": {k: list(v) for k, v in self.stops.items()}, "pauses": self.pauses,
                "escalation_table": self.escalation_table, "pause_table": self.pause_table,
                "near_breach_percent": self.near_breach_percent}


def _names(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))


def _read(meta: ProcessMeta, problems: list[dict[str, Any]]) -> SlaDeclarations | None:
    props = dict(meta.properties)
    clocks = _names(props.get("sla.clocks", ""))
    for name in clocks:
        if not NAME.match(name):
            problems.append({"element_id": meta.id, "message": f"sla.clocks: {name!r} is not a clock name "
                             "(lower case letters, digits and _)"})
    known = set(clocks)
    starts: dict[str, tuple[str, ...]] = {}
    stops: dict[str, tuple[str, ...]] = {}
    pauses: dict[str, str] = {}
    for el in meta.elements.values():
        for prop, into in (("sla.start", starts), ("sla.stop", stops)):
            if prop in el.properties:
                names = _names(el.properties[prop])
                unknown = [n for n in names if n not in known]
                if unknown or not names:
                    problems.append({"element_id": el.id, "message": f"{prop}: {', '.join(unknown) or 'nothing'} "
                                     f"is not a clock of sla.clocks ({', '.join(clocks) or 'none declared'})"})
                into[el.id] = tuple(n for n in names if n in known)
        if "sla.pause" in el.properties:
            reason = el.properties["sla.pause"].strip()
            if not el.is_human or not NAME.match(reason):
                problems.append({"element_id": el.id, "message": "sla.pause needs a reason (lower case letters, "
                                 "digits and _) on a task people work"})
            else:
                pauses[el.id] = reason
    if not clocks:
        if starts or stops or pauses:
            problems.append({"element_id": meta.id, "message": "elements start, stop or pause clocks but the "
                             "process declares no sla.clocks"})
        return None
    for name in clocks:
        if not any(name in v for v in starts.values()):
            problems.append({"element_id": meta.id, "message": f"clock {name!r} is never started (sla.start)"})
    near = props.get("sla.near_breach", str(DEFAULT_NEAR_BREACH)).strip()
    if not near.isdigit() or not 1 <= int(near) <= 99:
        problems.append({"element_id": meta.id, "message": f"sla.near_breach {near!r} must be a percent 1..99"})
        near = str(DEFAULT_NEAR_BREACH)
    return SlaDeclarations(
        clocks=clocks, targets={c: props.get(f"sla.target.{c}", "").strip() or f"{c}_target" for c in clocks},
        starts=starts, stops=stops, pauses=pauses,
        escalation_table=props.get("sla.escalations", "").strip() or None,
        pause_table=props.get("sla.pauses", "").strip() or None, near_breach_percent=int(near))


def read(meta: ProcessMeta) -> SlaDeclarations | None:
    """The clocks a process declares (None: it declares none). Malformed parts are left out; deploy refuses
    them first (problems())."""
    return _read(meta, [])


def problems(meta: ProcessMeta, known_decisions: set[str] | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    decl = _read(meta, found)
    if decl is not None and known_decisions is not None:
        for prop, key in (("sla.escalations", decl.escalation_table), ("sla.pauses", decl.pause_table)):
            if key and key not in known_decisions:
                found.append({"element_id": meta.id, "message": f"{prop}: decision {key!r} is not deployed "
                              "and not in the bundle"})
    return found
