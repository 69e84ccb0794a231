"""Service-level clocks replayed from an instance's audit trail. Pure functions, no database.

A clock starts when an element that declares `sla.start` is entered, stops when one that declares `sla.stop`
is left (the first stop is final), and stands still while a task with a `sla.pause` reason is open and the
pause table says that reason pauses that clock. Reopening a record ends the pause, so the clock goes on from
where it stood: it never resets. Running time counts only the open hours of the service's calendar (no
calendar: every hour counts). The same trail and calendar always give the same figures, so an auditor can
recompute them (docs/sla.md).

Targets are ISO 8601 durations of business time: PT4H is four open hours; a day part (P1D) is 24 open hours,
so write working days as hours (three 8-hour days: PT24H)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from engine import worktime
from engine.diagram.sla_declarations import SlaDeclarations
from engine.rules.values import parse_duration

ENTER = ("task.ready", "element.completed")
LEAVE = ("task.completed", "task.withdrawn", "element.completed")
ENDS = ("instance.completed", "instance.cancelled", "instance.withdrawn")
HORIZON = timedelta(days=800)
PauseRule = Callable[[str, str, datetime], bool]  # (reason, clock, when the pause began) -> does it pause


@dataclass(frozen=True)
class TrailEvent:
    at: datetime
    type: str
    element_id: str | None
    data: dict[str, Any]


@dataclass
class Clock:
    name: str
    state: str = "not_started"  # not_started | running | paused | stopped
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    segments: list[tuple[datetime, datetime | None]] = field(default_factory=list)  # when it ran (wall clock)
    pauses: list[dict[str, Any]] = field(default_factory=list)
    target: str | None = None
    target_seconds: float | None = None
    elapsed_seconds: float = 0.0
    due_at: datetime | None = None  # when the target is (or will be, running on) reached
    near_breach_at: datetime | None = None
    breached: bool = False
    stopped_by: str | None = None

    @property
    def result(self) -> str:
        """met | breached | open | no_target."""
        if self.target_seconds is None:
            return "no_target"
        if self.breached:
            return "breached"
        return "met" if self.state == "stopped" else "open"

    def to_dict(self) -> dict[str, Any]:
        def iso(v: datetime | None) -> str | None:
            return v.astimezone(UTC).isoformat() if v is not None else None
        percent = (round(100 * self.elapsed_seconds / self.target_seconds, 1)
                   if self.target_seconds else None)
        return {"clock": self.name, "state": self.state, "result": self.result, "target": self.target,
                "target_seconds": self.target_seconds, "elapsed_seconds": round(self.elapsed_seconds, 3),
                "percent": percent, "started_at": iso(self.started_at), "stopped_at": iso(self.stopped_at),
                "stopped_by": self.stopped_by, "due_at": iso(self.due_at),
                "near_breach_at": iso(self.near_breach_at), "breached": self.breached,
                "segments": [{"from": iso(a), "to": iso(b)} for a, b in self.segments],
                "pauses": [{**p, "from": iso(p["from"]), "to": iso(p["to"])} for p in self.pauses]}


def target_seconds(text: Any) -> float | None:
    """'PT4H' -> 14400.0; None for anything that is not a positive ISO 8601 duration."""
    if not isinstance(text, str):
        return None
    value = parse_duration(text.strip())
    return value.total_seconds() if value is not None and value > timedelta(0) else None


# ------------------------------------------------------------------------------------ business-time arithmetic

def open_seconds(cal: worktime.WorkCalendar | None, start: datetime, end: datetime) -> float:
    if end <= start:
        return 0.0
    if cal is None:
        return (end - start).total_seconds()
    return worktime.open_seconds(cal, start, end)


def advance(cal: worktime.WorkCalendar | None, start: datetime, seconds: float) -> datetime | None:
    """The instant `seconds` of open time after `start` (None: not within the horizon)."""
    if cal is None:
        return start + timedelta(seconds=seconds)
    left, lo, step = seconds, start, timedelta(days=14)
    while lo < start + HORIZON:
        for a, b in worktime.open_intervals(cal, lo, lo + step):
            span = (b - a).total_seconds()
            if span >= left:
                return a + timedelta(seconds=left)
            left -= span
        lo += step
    return None


def _instant(cal: worktime.WorkCalendar | None, segments: list[tuple[datetime, datetime | None]],
             seconds: float) -> datetime | None:
    """When the running time over `segments` reaches `seconds` (an open last segment runs on)."""
    left = seconds
    for a, b in segments:
        if b is None:
            return advance(cal, a, left)
        span = open_seconds(cal, a, b)
        if span >= left:
            return advance(cal, a, left)
        left -= span
    return None


# -------------------------------------------------------------------------------------------------- replay

def replay_data(events: Iterable[TrailEvent]) -> dict[str, Any]:
    """The record's data as the trail last set it: start data, form values, decision outputs, admin edits."""
    data: dict[str, Any] = {}
    for ev in events:
        if ev.type == "instance.started":
            data.update(ev.data.get("data") or {})
        elif ev.type == "task.completed":
            data.update(ev.data.get("form") or {})
        elif ev.type == "decision.evaluated":
            outputs = (ev.data.get("evaluation") or {}).get("outputs") or {}
            data.update(outputs if isinstance(outputs, dict) else {})
        elif ev.type == "admin.data_edited":
            changes = ev.data.get("changes") or {}
            data.update({k: v.get("new") for k, v in changes.items() if isinstance(v, dict)})
    return data


def compute(decl: SlaDeclarations, events: list[TrailEvent], cal: worktime.WorkCalendar | None,
            pauses_clock: PauseRule, now: datetime, data: dict[str, Any] | None = None) -> list[Clock]:
    """Every declared clock of one instance at `now`, from its trail (in order)."""
    clocks = {name: Clock(name) for name in decl.clocks}
    running_since: dict[str, datetime | None] = dict.fromkeys(decl.clocks)
    open_pauses: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in decl.clocks}  # clock -> task -> pause

    def halt(c: Clock, at: datetime) -> None:
        since = running_since[c.name]
        if since is not None and since < at:
            c.segments.append((since, at))
        running_since[c.name] = None

    for ev in events:
        at, el = ev.at, ev.element_id or ""
        if ev.type in ENTER:
            for name in decl.starts.get(el, ()):
                c = clocks[name]
                if c.state == "not_started":
                    c.started_at, c.state = at, "running"
                    running_since[name] = at
            if ev.type == "task.ready" and el in decl.pauses:
                reason = decl.pauses[el]
                for name, c in clocks.items():
                    if c.state in ("running", "paused") and pauses_clock(reason, name, at):
                        pause = {"reason": reason, "element_id": el, "from": at, "to": None}
                        open_pauses[name][str(ev.data.get("task_id"))] = pause
                        c.pauses.append(pause)
                        halt(c, at)
                        c.state = "paused"
        if ev.type in LEAVE:
            task_id = str(ev.data.get("task_id"))
            for name, c in clocks.items():
                ended = open_pauses[name].pop(task_id, None)
                if ended is not None:
                    ended["to"] = at
                    if not open_pauses[name] and c.state == "paused":
                        c.state, running_since[name] = "running", at
            for name in decl.stops.get(el, ()):
                c = clocks[name]
                if c.state in ("running", "paused"):
                    halt(c, at)
                    c.state, c.stopped_at, c.stopped_by = "stopped", at, el
                    for pause in open_pauses[name].values():
                        pause["to"] = at
                    open_pauses[name].clear()
        if ev.type in ENDS:
            for c in clocks.values():
                if c.state in ("running", "paused"):
                    halt(c, at)
                    c.state, c.stopped_at, c.stopped_by = "stopped", at, ev.type
    values = data if data is not None else replay_data(events)
    for name, c in clocks.items():
        since = running_since[name]
        if since is not None:
            c.segments.append((since, None))
        _measure(c, decl, values.get(decl.targets[name]), cal, now)
    return list(clocks.values())


def _measure(c: Clock, decl: SlaDeclarations, target: Any, cal: worktime.WorkCalendar | None,
             now: datetime) -> None:
    c.elapsed_seconds = sum(open_seconds(cal, a, b if b is not None else now) for a, b in c.segments)
    c.target = target if isinstance(target, str) else None
    c.target_seconds = target_seconds(target)
    if c.target_seconds is None or c.state == "not_started":
        return
    # Over closed segments these are the instants the levels were reached (None: never); a running clock's
    # last segment runs on, so they project when it will reach them.
    c.due_at = _instant(cal, c.segments, c.target_seconds)
    c.near_breach_at = _instant(cal, c.segments, c.target_seconds * decl.near_breach_percent / 100)
    c.breached = c.elapsed_seconds > c.target_seconds


def crossing(cal: worktime.WorkCalendar | None, c: Clock, percent: float) -> datetime | None:
    """When the clock reached (or, running on, will reach) `percent` of its target."""
    if c.target_seconds is None:
        return None
    return _instant(cal, c.segments, c.target_seconds * percent / 100)
