"""The working-time module: open or not at an instant, whole windows inside, across midnight, holidays and
daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from engine import worktime
from engine.worktime import Span, WorkCalendar

OFFICE = WorkCalendar("Europe/London", tuple(Span(d, 8 * 60, 18 * 60) for d in range(5)),
                      frozenset({date(2026, 12, 25)}))
NIGHTS = WorkCalendar("Europe/London", (Span(5, 22 * 60, 24 * 60), Span(6, 0, 6 * 60)))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_open_and_closed_instants_in_local_time() -> None:
    assert worktime.is_open(OFFICE, utc(2026, 3, 2, 8, 0))  # Monday, GMT
    assert not worktime.is_open(OFFICE, utc(2026, 3, 2, 7, 59, 59))
    assert not worktime.is_open(OFFICE, utc(2026, 3, 2, 18, 0))  # the end is not inside
    assert worktime.is_open(OFFICE, utc(2026, 7, 6, 7, 0))  # 08:00 BST
    assert not worktime.is_open(OFFICE, utc(2026, 3, 7, 12, 0))  # Saturday
    assert not worktime.is_open(OFFICE, utc(2026, 12, 25, 12, 0))  # a holiday (a Friday)


def test_a_window_across_midnight_lies_inside_adjacent_spans() -> None:
    assert worktime.covers(NIGHTS, utc(2026, 3, 7, 23, 0), utc(2026, 3, 8, 2, 0))
    assert not worktime.covers(NIGHTS, utc(2026, 3, 7, 21, 0), utc(2026, 3, 8, 2, 0))  # starts too early
    assert not worktime.covers(NIGHTS, utc(2026, 3, 8, 5, 0), utc(2026, 3, 8, 7, 0))  # runs past 06:00
    assert not worktime.covers(NIGHTS, utc(2026, 3, 8, 2, 0), utc(2026, 3, 8, 1, 0))  # ends before it starts
    two_weekends = worktime.open_intervals(NIGHTS, utc(2026, 3, 2), utc(2026, 3, 16))  # Mon 2 - Mon 16
    assert two_weekends == [(utc(2026, 3, 7, 22), utc(2026, 3, 8, 6)), (utc(2026, 3, 14, 22), utc(2026, 3, 15, 6))]


def test_daylight_saving_keeps_local_hours() -> None:
    # London goes to BST on Sunday 29 March 2026: the night has an hour less in UTC.
    spring = worktime.open_intervals(NIGHTS, utc(2026, 3, 28), utc(2026, 3, 30))
    assert spring == [(utc(2026, 3, 28, 22), utc(2026, 3, 29, 5))]
    assert worktime.open_seconds(NIGHTS, utc(2026, 3, 28), utc(2026, 3, 30)) == 7 * 3600


def test_open_seconds_and_next_open_skip_weekends_and_holidays() -> None:
    week = worktime.open_seconds(OFFICE, utc(2026, 3, 2), utc(2026, 3, 9))
    assert week == 5 * 10 * 3600
    assert worktime.next_open(OFFICE, utc(2026, 12, 24, 18, 30)) == utc(2026, 12, 28, 8, 0)
    assert worktime.next_open(OFFICE, utc(2026, 3, 2, 9, 0)) == utc(2026, 3, 2, 9, 0)
    assert worktime.next_open(WorkCalendar("UTC"), utc(2026, 3, 2)) is None
    start = utc(2026, 3, 2, 17)
    assert worktime.open_intervals(OFFICE, start, start + timedelta(hours=16)) == [
        (utc(2026, 3, 2, 17), utc(2026, 3, 2, 18)), (utc(2026, 3, 3, 8), utc(2026, 3, 3, 9))]


@pytest.mark.parametrize("text, minutes", [("00:00", 0), ("08:30", 510), ("24:00", 1440)])
def test_clock_texts(text: str, minutes: int) -> None:
    assert worktime.parse_clock(text) == minutes
    assert worktime.clock_text(minutes) == text


@pytest.mark.parametrize("text", ["8:30", "24:01", "12:60", "noon", "", "25:00"])
def test_bad_clock_texts(text: str) -> None:
    with pytest.raises(ValueError):
        worktime.parse_clock(text)


def test_span_and_zone_checks() -> None:
    assert worktime.check_spans([Span(0, 60, 120), Span(0, 120, 180)]) == []
    assert "overlaps" in worktime.check_spans([Span(0, 60, 121), Span(0, 120, 180)])[0]
    assert "must end after" in worktime.check_spans([Span(1, 600, 60)])[0]
    assert worktime.check_zone("Europe/London") is None
    assert "not a known time zone" in (worktime.check_zone("Mars/Olympus") or "")
    assert worktime.check_zone("") is not None
