"""Working time: weekly opening hours in a time zone, closed on holidays. Pure functions, no database.

The catalogue uses it for support hours and maintenance windows ("is this instant inside", "does this window
lie inside"); the SLA engine builds business-time arithmetic on `open_intervals`. Hours are wall-clock times
in the calendar's own zone, so a window keeps its local time across daylight-saving changes. A span ends at
most at 24:00; hours across midnight are two spans (Sat 22:00-24:00 and Sun 00:00-04:00), and adjacent spans
join into one interval, so a window across midnight still lies "inside"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class Span:
    """Open from `start` to `end` minutes after local midnight on `weekday` (0 = Monday)."""

    weekday: int
    start: int
    end: int


@dataclass(frozen=True)
class WorkCalendar:
    time_zone: str
    spans: tuple[Span, ...] = ()
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def spans_on(self, weekday: int) -> list[Span]:
        return sorted((s for s in self.spans if s.weekday == weekday), key=lambda s: s.start)


# ------------------------------------------------------------------------------------------ checking input

def check_zone(name: str) -> str | None:
    """None when `name` is an IANA time zone, else a message for a person."""
    if not isinstance(name, str) or not name.strip():
        return "is required (an IANA time zone such as Europe/London)"
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return f"{name!r} is not a known time zone (use an IANA name such as Europe/London)"
    return None


def parse_clock(text: str) -> int:
    """'08:30' -> 510 minutes; '24:00' is the end of the day. Raises ValueError with a message."""
    parts = str(text).strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"{text!r} is not a time like 08:30")
    hours, minutes = int(parts[0]), int(parts[1])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{text!r} is not a time between 00:00 and 24:00")
    return hours * 60 + minutes


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def check_spans(spans: list[Span]) -> list[str]:
    """Problems: a span that ends before it starts, or two spans of one day that overlap."""
    problems = []
    for s in spans:
        if not 0 <= s.weekday <= 6:
            problems.append(f"weekday {s.weekday} is not 0 (Monday) to 6 (Sunday)")
        elif not 0 <= s.start < s.end <= DAY_MINUTES:
            problems.append(f"{WEEKDAYS[s.weekday]} {clock_text(s.start)}-{clock_text(s.end)} must end after it "
                            "starts, within the day (split hours across midnight into two spans)")
    for day in range(7):
        ordered = sorted((s for s in spans if s.weekday == day), key=lambda s: s.start)
        for a, b in zip(ordered, ordered[1:], strict=False):
            if b.start < a.end:
                problems.append(f"{WEEKDAYS[day]} {clock_text(a.start)}-{clock_text(a.end)} overlaps "
                                f"{clock_text(b.start)}-{clock_text(b.end)}")
    return problems


# -------------------------------------------------------------------------------------------- the answers

def _minute_of_day(local: datetime) -> float:
    return local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 60_000_000


def is_open(cal: WorkCalendar, at: datetime) -> bool:
    """Is the instant `at` (aware) inside the calendar's hours?"""
    local = at.astimezone(cal.zone)
    if local.date() in cal.holidays:
        return False
    minute = _minute_of_day(local)
    return any(s.start <= minute < s.end for s in cal.spans_on(local.weekday()))


def _local(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    if minutes >= DAY_MINUTES:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)


def open_intervals(cal: WorkCalendar, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The open time between `start` and `end` (aware) as merged UTC intervals, clipped to [start, end)."""
    if end <= start:
        return []
    zone = cal.zone
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    found: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        if day not in cal.holidays:
            for s in cal.spans_on(day.weekday()):
                lo = _local(day, s.start, zone).astimezone(UTC)
                hi = _local(day, s.end, zone).astimezone(UTC)
                lo, hi = max(lo, start.astimezone(UTC)), min(hi, end.astimezone(UTC))
                if lo < hi:
                    found.append((lo, hi))
        day += timedelta(days=1)
    found.sort()
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in found:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def covers(cal: WorkCalendar, start: datetime, end: datetime) -> bool:
    """Does the whole window [start, end) lie inside open time (one unbroken interval)?"""
    if end <= start:
        return False
    intervals = open_intervals(cal, start, end)
    return len(intervals) == 1 and intervals[0][0] <= start.astimezone(UTC) and intervals[0][1] >= end.astimezone(UTC)


def open_seconds(cal: WorkCalendar, start: datetime, end: datetime) -> float:
    """Open time between two instants, in seconds (the basis of business-time clocks)."""
    return sum((hi - lo).total_seconds() for lo, hi in open_intervals(cal, start, end))


def next_open(cal: WorkCalendar, at: datetime, horizon_days: int = 400) -> datetime | None:
    """`at` itself when open, else the next instant the calendar opens (None: never within the horizon)."""
    if is_open(cal, at):
        return at
    for lo, _hi in open_intervals(cal, at, at + timedelta(days=horizon_days)):
        return lo
    return None
