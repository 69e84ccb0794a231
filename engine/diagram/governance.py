"""What a diagram declares for governance (docs/modelling.md, "Governance: the improvement register and
cadences"): that its records are the improvement register maturity reads, and the cadences that start them.

On the process:
  `maturity.register` = true       its completed records are improvement reviews of a practice
  `maturity.practice_field`        data field naming the practice (a process key); default `practice`. Empty:
                                   the process of the record the item came from (origin)
  `maturity.review_step`           the element whose completion is the review; default `review` (a copy that
                                   renames it counts no review until the property follows)
  `maturity.target_met_field`      boolean field: the improvement met its target; default `target_met`
  `cadence.<id>`                   an ISO 8601 repeating interval, as a BPMN timeCycle: `R/2026-01-05T09:00:00Z/P1M`
  `cadence.<id>.set`               `field=value, ...` the data a cadence's record starts with
Nothing here knows a process by name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.diagram.metadata import ProcessMeta

CADENCE = re.compile(r"^cadence\.([a-z][a-z0-9_]{0,39})$")
CADENCE_SET = re.compile(r"^cadence\.([a-z][a-z0-9_]{0,39})\.set$")
CYCLE = re.compile(r"^R(\d*)/([^/]+)/P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?)?$")


@dataclass(frozen=True)
class Cycle:
    """A repeating interval: `start`, then every `months` + `days` (+ `hours`), `repeats` times (None: forever)."""

    start: datetime
    months: int = 0
    days: int = 0
    hours: int = 0
    repeats: int | None = None

    def nth(self, n: int) -> datetime:
        total = self.start.month - 1 + self.months * n
        year, month = self.start.year + total // 12, total % 12 + 1
        day = min(self.start.day, _month_days(year, month))
        return (self.start.replace(year=year, month=month, day=day)
                + timedelta(days=self.days * n, hours=self.hours * n))

    def last_due(self, now: datetime) -> datetime | None:
        """The latest occurrence at or before `now` (None: none yet, or the repeats are used up before)."""
        if now < self.start:
            return None
        n, found = 0, None
        while (self.repeats is None or n < self.repeats) and n < 100_000:
            at = self.nth(n)
            if at > now:
                break
            found, n = at, n + 1
        return found


def _month_days(year: int, month: int) -> int:
    nxt = datetime(year + month // 12, month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


def parse_cycle(text: str) -> Cycle:
    """`R/2026-01-05T09:00:00Z/P1M` -> Cycle. Raises ValueError with a message for a person."""
    m = CYCLE.match(text.strip())
    if not m or not any(m.groups()[2:]):
        raise ValueError(f"{text!r} is not a repeating interval like R/2026-01-05T09:00:00Z/P1M")
    repeats, start_text, years, months, weeks, days, hours = m.groups()
    try:
        start = datetime.fromisoformat(start_text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{start_text!r} is not a date and time like 2026-01-05T09:00:00Z") from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return Cycle(start, months=int(years or 0) * 12 + int(months or 0), days=int(weeks or 0) * 7 + int(days or 0),
                 hours=int(hours or 0), repeats=int(repeats) if repeats else None)


@dataclass(frozen=True)
class Cadence:
    id: str
    cycle: Cycle
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Register:
    practice_field: str | None = "practice"
    review_step: str = "review"
    target_met_field: str = "target_met"


@dataclass(frozen=True)
class Governance:
    register: Register | None = None
    cadences: tuple[Cadence, ...] = ()


def _pairs(text: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip():
            v = value.strip()
            found[name.strip()] = {"true": True, "false": False}.get(v.lower(), v)
    return found


def _read(meta: ProcessMeta, problems: list[dict[str, Any]]) -> Governance:
    props = dict(meta.properties)
    register = None
    if props.get("maturity.register", "").strip().lower() == "true":
        register = Register(practice_field=props.get("maturity.practice_field", "practice").strip() or None,
                            review_step=props.get("maturity.review_step", "").strip() or "review",
                            target_met_field=props.get("maturity.target_met_field", "").strip() or "target_met")
    cadences = []
    for name, value in meta.properties:
        m = CADENCE.match(name)
        if m is None:
            if name.startswith("cadence.") and not CADENCE_SET.match(name):
                problems.append({"element_id": meta.id, "message": f"{name!r} is not cadence.<id> or "
                                 "cadence.<id>.set (id: lower case letters, digits and _)"})
            continue
        try:
            cycle = parse_cycle(value)
        except ValueError as exc:
            problems.append({"element_id": meta.id, "message": f"{name}: {exc}"})
            continue
        cadences.append(Cadence(m.group(1), cycle, value.strip(), _pairs(props.get(f"{name}.set", ""))))
    return Governance(register, tuple(cadences))


def read(meta: ProcessMeta) -> Governance:
    return _read(meta, [])


def problems(meta: ProcessMeta) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    _read(meta, found)
    return found
