"""The clock arithmetic on its own (engine/slaclock.py): business time across a daylight-saving change, a
record that is paused twice, and a target written in days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine import slaclock, worktime
from engine.diagram.sla_declarations import SlaDeclarations
from engine.slaclock import TrailEvent

LONDON = worktime.WorkCalendar("Europe/London", tuple(worktime.Span(d, 9 * 60, 17 * 60) for d in range(5)))
DECL = SlaDeclarations(clocks=("fix",), targets={"fix": "fix_target"}, starts={"start": ("fix",)},
                       stops={"done": ("fix",)}, pauses={"ask": "awaiting_requester"})


def utc(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_business_time_across_the_clocks_going_forward() -> None:
    # Friday 27 March 16:00 GMT + 2 open hours: 1 h on Friday, then Monday 30 March 09:00 BST (08:00 UTC) + 1 h
    assert slaclock.advance(LONDON, utc(27, 16), 2 * 3600) == utc(30, 9)
    assert slaclock.open_seconds(LONDON, utc(27, 16), utc(30, 9)) == 2 * 3600


def trail(*events: tuple[datetime, str, str, dict]) -> list[TrailEvent]:
    return [TrailEvent(at, type_, el, data) for at, type_, el, data in events]


def test_two_pauses_and_a_stop_replayed_from_the_trail() -> None:
    events = trail(
        (utc(2, 9), "instance.started", "", {"data": {"fix_target": "PT4H"}}),
        (utc(2, 9), "element.completed", "start", {}),
        (utc(2, 10), "task.ready", "ask", {"task_id": "a"}),
        (utc(2, 15), "task.completed", "ask", {"task_id": "a"}),
        (utc(3, 9), "task.ready", "ask", {"task_id": "b"}),
        (utc(3, 11), "task.completed", "ask", {"task_id": "b"}),
        (utc(3, 12), "element.completed", "done", {}),
    )
    asked: list[tuple[str, str]] = []

    def pauses(reason: str, clock: str, at: datetime) -> bool:
        asked.append((reason, clock))
        return True

    (c,) = slaclock.compute(DECL, events, None, pauses, utc(10, 9))
    # ran 9-10 and 15-09 next day (18 h, no calendar) and 11-12: 20 h of a 4 h target
    assert c.elapsed_seconds == 20 * 3600 and c.result == "breached"
    assert c.due_at == utc(2, 18)  # 1 h before the first pause + 3 h after it
    assert [(p["from"], p["to"]) for p in c.pauses] == [(utc(2, 10), utc(2, 15)), (utc(3, 9), utc(3, 11))]
    assert asked == [("awaiting_requester", "fix"), ("awaiting_requester", "fix")]
    # the same trail in the calendar: Mon 9-10, Mon 15-17 and Tue 11-12 = 4 h exactly: met, not breached
    (c,) = slaclock.compute(DECL, events, LONDON, pauses, utc(10, 9))
    assert c.elapsed_seconds == 4 * 3600 and c.result == "met"


def test_a_pause_the_table_does_not_grant_lets_the_clock_run() -> None:
    events = trail((utc(2, 9), "element.completed", "start", {}), (utc(2, 10), "task.ready", "ask", {"task_id": "a"}))
    (c,) = slaclock.compute(DECL, events, None, lambda *_: False, utc(2, 12), data={"fix_target": "P1D"})
    assert (c.state, c.elapsed_seconds, c.target_seconds) == ("running", 3 * 3600, 86400)
    assert c.due_at == utc(2, 9) + timedelta(days=1)  # a day in a target is 24 hours of open time
