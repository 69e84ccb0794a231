"""Scenario 10 of issue 12 through the HTTP API: the reporter is an account, and a confirmation nobody answers
neither waits for ever nor goes to a name nobody holds. It goes back to the service desk after the time the
organisation's table `confirmation` gives, and the record closes by itself after the table's further time; both
show in the record's audit trail. The worker's timer pass fires the timers (as `itsmflow worker` does);
time-machine moves the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine

from engine.services import timers
from tests.api.conftest import Api
from tests.rights.conftest import complete, do, ok, record, refused, task

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _trail(api: Api, key: str) -> list[dict[str, Any]]:
    return ok(api.get(f"/instances/{key}/audit", "heidi"))["events"]


def _open(api: Api, key: str) -> list[str]:
    return sorted(t["element_id"] for t in ok(api.get(f"/instances/{key}", "heidi"))["tasks"])


def _resolved_question(api: Api) -> str:
    """Ivan asks a question; the desk records it with Ivan as reporter and answers it."""
    key = ok(api.post("/instances", "ivan", json={"process": "response", "data": {
        "summary": "How do I reset my VPN token?", "service": "vpn", "impact": "low", "urgency": "low"}}),
        201)["business_key"]
    do(api, "alice", key, "record", {"summary": "VPN token reset", "service": "vpn", "reporter": "ivan",
                                     "query_type": "information", "impact": "low", "urgency": "low"})
    do(api, "alice", key, "provide_information", {"answer": "self-service page", "answered": True})
    return key


def test_a_reporter_who_is_no_account_is_refused_where_it_enters(shipped: Api) -> None:
    api = shipped
    before = len(ok(api.get("/instances?limit=500", "heidi"))["instances"])
    error = refused(api.post("/instances", "alice", json={"process": "response", "data": {
        "summary": "Printer jam", "service": "print", "impact": "low", "urgency": "low",
        "reporter": "Jo from accounts"}}))
    assert set(error["details"]["fields"]) == {"reporter"} and "no user" in error["details"]["fields"]["reporter"]
    assert len(ok(api.get("/instances?limit=500", "heidi"))["instances"]) == before
    key = ok(api.post("/instances", "ivan", json={"process": "response", "data": {
        "summary": "Printer jam", "service": "print", "impact": "low", "urgency": "low"}}), 201)["business_key"]
    typed = complete(api, "alice", key, "record", {"summary": "Printer jam", "service": "print",
                                                   "reporter": "Jo from accounts", "query_type": "incident",
                                                   "impact": "low", "urgency": "low"})
    fields = refused(typed)["details"]["fields"]
    assert set(fields) == {"reporter"} and "no user" in fields["reporter"]
    assert _open(api, key) == ["record"]  # nothing was lost: the desk corrects the name


def test_an_unanswered_confirmation_goes_to_the_desk_then_the_record_closes_by_itself(shipped: Api) -> None:
    api = shipped
    with time_machine.travel(T0, tick=False) as clock:
        key = _resolved_question(api)
        confirm = task(api, key, "confirm")
        assert confirm["assignee"] == "ivan"
        data = record(api, key)
        wait, close_after = data["confirmation_wait"], data["close_unanswered_after"]
        assert (wait, close_after) == ("P3D", "P5D")  # from the table, for a request

        clock.shift(timedelta(days=3) - timedelta(minutes=1))
        timers.fire_due(api.db)
        assert _open(api, key) == ["confirm"]
        clock.shift(timedelta(minutes=2))
        timers.fire_due(api.db)
        assert _open(api, key) == ["chase_confirmation"]
        assert task(api, key, "chase_confirmation")["roles"] == ["service_desk"]
        # the reporter can no longer answer the task that went to the desk; the desk can
        assert complete(api, "ivan", key, "chase_confirmation", {"user_confirmed": True}).status_code == 403

        clock.shift(timedelta(days=5) - timedelta(minutes=1))  # counted from the hand-back to the desk
        timers.fire_due(api.db)
        assert _open(api, key) == ["chase_confirmation"]
        clock.shift(timedelta(minutes=2))
        timers.fire_due(api.db)
        view = ok(api.get(f"/instances/{key}", "heidi"))

    assert view["status"] == "completed" and view["tasks"] == []
    assert view["data"]["closed_without_answer"] is True and view["data"]["user_confirmed"] is None
    trail = _trail(api, key)
    fired = [(e["element_id"], e["data"]["timer"]["expression"]) for e in trail if e["type"] == "timer.fired"]
    assert fired == [("confirm_unanswered", "${confirmation_wait}"),
                     ("close_unanswered_timer", "${close_unanswered_after}")]
    decided = [e for e in trail if e["type"] == "decision.evaluated" and e["element_id"] == "set_confirmation"]
    assert decided and decided[0]["data"]["evaluation"]["matched"] == ["confirmation_request"]
    ended = [e["element_id"] for e in trail if e["type"] == "element.completed"]
    assert ended.index("confirm_unanswered") < ended.index("close_unanswered") < ended.index("end_closed_unanswered")
    assert any(e["type"] == "instance.completed" for e in trail)
    assert ok(api.get("/audit/verify", "heidi"))["ok"] is True


def test_the_desk_records_the_answer_it_chased(shipped: Api) -> None:
    api = shipped
    with time_machine.travel(T0, tick=False) as clock:
        key = _resolved_question(api)
        clock.shift(timedelta(days=3, minutes=1))
        timers.fire_due(api.db)
        silent = refused(complete(api, "alice", key, "chase_confirmation", {"feedback": "voicemail"}))
        assert set(silent["details"]["fields"]) == {"user_confirmed"}
        do(api, "alice", key, "chase_confirmation", {"user_confirmed": True, "feedback": "fine, said on the phone"})
        assert _open(api, key) == ["close"]
        clock.shift(timedelta(days=30))
        timers.fire_due(api.db)
        assert _open(api, key) == ["close"]  # the closing timer went with the desk's task
    assert record(api, key)["user_confirmed"] is True and "closed_without_answer" not in record(api, key)
