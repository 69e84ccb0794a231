"""Scenario 11 of issue 12 through the HTTP API: a change raised through triage and withdrawn after triage sends
change.implemented to the ended TRI- record. Nobody takes it; after the bounded retries it is a dead letter,
listed for administrators, and discarded (or redelivered) with a reason that the trail keeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from engine.services import timers
from tests.api.conftest import Api
from tests.integration.test_timers_messages import PING_PONG
from tests.rights.conftest import do, ok, record, refused
from tests.support import deploy_xml

LIMITS = {"ITSMFLOW_MESSAGE_MAX_ATTEMPTS": "3", "ITSMFLOW_MESSAGE_RETRY_SECONDS": "60",
          "ITSMFLOW_MESSAGE_RETRY_MAX_SECONDS": "90"}


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in LIMITS.items():
        monkeypatch.setenv(name, value)
    yield


def _withdrawn_after_triage(api: Api) -> tuple[str, str]:
    """TRI- hands the RFC to change and ends; the change is returned and the requester withdraws it."""
    tri = ok(api.post("/records", "ivan", json={"option": "change", "data": {
        "title": "Retire the fax gateway", "service": "fax", "description": "nobody faxes"}}), 201)["business_key"]
    do(api, "alice", tri, "register", {"record_kind": "rfc", "summary": "Retire the fax gateway", "service": "fax",
                                       "reporter": "ivan"})
    do(api, "alice", tri, "assess_rfc", {"title": "Retire the fax gateway", "estimated_hours": 2,
                                         "users_affected": 10, "donor_facing": False})
    view = ok(api.get(f"/instances/{tri}", "heidi"))
    assert view["status"] == "completed"
    (rfc,) = [r["business_key"] for r in view["related"] if r["process"] == "change"]
    do(api, "erin", rfc, "assess", {"assessment": "invalid", "assessment_note": "the fax is still used",
                                    "estimated_hours": 2, "users_affected": 10})
    do(api, "ivan", rfc, "revise_rfc", {"requester_decision": "withdraw"})
    assert ok(api.get(f"/instances/{rfc}", "heidi"))["status"] == "completed"
    return tri, rfc


class Worker:
    """The real worker loop, run once after each pause (seconds of a travelling clock that starts now)."""

    def __init__(self, api: Api) -> None:
        self.api, self.at = api, datetime.now(UTC)

    def rounds(self, *pauses: int) -> None:
        for seconds in pauses:
            self.at += timedelta(seconds=seconds)
            with time_machine.travel(self.at, tick=False):
                timers.run_worker(self.api.db, once=True)


def _health(api: Api) -> tuple[int, int]:
    body = ok(api.get("/health"))
    return body["undelivered_messages"], body["dead_letters"]


def _dead_letter_from(api: Api, rfc: str) -> dict[str, Any]:
    found = [m for m in ok(api.get("/messages/dead-letters", "admin"))["dead_letters"] if m["sender"] == rfc]
    assert len(found) == 1, found
    return found[0]


def _trail(api: Api, key: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in ok(api.get(f"/instances/{key}/audit", "heidi"))["events"] if e["type"] == kind]


def test_11_a_message_for_an_ended_triage_record_dies_and_is_discarded_with_a_reason(shipped: Api,
                                                                                      limits: None) -> None:
    api = shipped
    tri, rfc = _withdrawn_after_triage(api)
    worker = Worker(api)  # its clock starts just after the message was sent
    assert _health(api) == (1, 0)  # one attempt when it was sent; two left
    worker.rounds(30)  # the pause (60 s) is not over: not tried
    assert _health(api) == (1, 0)
    worker.rounds(31, 60)  # the second attempt; the doubled pause (capped at 90 s) is not over yet
    assert _health(api) == (1, 0)
    worker.rounds(31)  # the third and last attempt
    assert _health(api) == (0, 1)
    worker.rounds(3600)  # a dead letter is not tried again
    letter = _dead_letter_from(api, rfc)
    assert (letter["name"], letter["to"], letter["attempts"]) == ("change.implemented", [tri], 3)
    assert tri in letter["last_error"] and letter["payload"]["implemented"] is False
    [died] = _trail(api, rfc, "message.dead_lettered")
    assert died["data"]["message_id"] == letter["id"] and died["actor"].startswith("worker:")

    refused(api.get("/messages/dead-letters", "heidi"), 403)  # an auditor reads the trail, not this list
    refused(api.post(f"/messages/{letter['id']}/discard", "carol", json={"reason": "stale"}), 403)
    no_reason = refused(api.post(f"/messages/{letter['id']}/discard", "admin", json={"reason": " "}), 400)
    assert no_reason["details"]["fields"] == {"reason": "is required"}
    done = ok(api.post(f"/messages/{letter['id']}/discard", "admin",
                       json={"reason": "the triage record ended when it handed the RFC over"}))
    assert done["status"] == "discarded"
    again = refused(api.post(f"/messages/{letter['id']}/discard", "admin", json={"reason": "twice"}), 409)
    assert "not a dead letter" in again["message"]
    assert ok(api.get("/messages/dead-letters", "admin"))["dead_letters"] == [] and _health(api) == (0, 0)
    [discarded] = _trail(api, rfc, "admin.message_discarded")
    assert discarded["actor"] == "admin" and discarded["data"] == {
        "message_id": letter["id"], "name": "change.implemented", "attempts": 3,
        "reason": "the triage record ended when it handed the RFC over", "last_error": letter["last_error"]}
    assert record(api, tri)["change_class"] == "normal"  # the ended record was never touched
    refused(api.post("/messages/424242/discard", "admin", json={"reason": "x"}), 404)


def test_11b_redelivering_a_dead_letter_routes_it_now_or_retries_it_afresh(shipped: Api, limits: None) -> None:
    api = shipped
    _tri, rfc = _withdrawn_after_triage(api)
    worker = Worker(api)
    worker.rounds(61, 91)
    letter = _dead_letter_from(api, rfc)
    refused(api.post(f"/messages/{letter['id']}/redeliver", "admin", json={}), 400)
    # the TRI- record is still ended: routed at once, nobody takes it, back in the worker's hands from attempt 1
    again = ok(api.post(f"/messages/{letter['id']}/redeliver", "admin", json={"reason": "try once more"}))
    assert (again["status"], again["attempts"], again["delivered_to"]) == ("unrouted", 1, [])
    assert _health(api) == (1, 0)
    refused(api.post(f"/messages/{letter['id']}/redeliver", "admin", json={"reason": "double click"}), 409)
    [event] = _trail(api, rfc, "admin.message_redelivered")
    assert event["data"]["reason"] == "try once more" and event["data"]["attempts"] == 3


def test_a_dead_letter_whose_receiver_exists_now_is_delivered_on_redelivery(shipped: Api, limits: None) -> None:
    api = shipped
    deploy_xml(api.db, PING_PONG["caller"])  # asks for help; no helper process yet
    caller = ok(api.post("/instances", "admin", json={"process": "caller", "data": {}}), 201)["business_key"]
    worker = Worker(api)
    worker.rounds(61, 91)
    letter = _dead_letter_from(api, caller)
    deploy_xml(api.db, PING_PONG["helper"])  # a deployment wakes unrouted messages, not dead letters
    worker.rounds(1)
    assert _dead_letter_from(api, caller)["id"] == letter["id"]
    done = ok(api.post(f"/messages/{letter['id']}/redeliver", "admin", json={"reason": "helper deployed"}))
    assert done["status"] == "delivered" and len(done["delivered_to"]) == 1
    helper = [r for r in ok(api.get(f"/instances/{caller}", "heidi"))["related"] if r["process"] == "helper"]
    assert [r["id"] for r in helper] == done["delivered_to"]
    assert _health(api) == (0, 0)
    assert [e["data"]["reason"] for e in _trail(api, caller, "admin.message_redelivered")] == ["helper deployed"]


def test_a_posted_message_on_its_last_attempt_is_a_dead_letter_at_once(shipped: Api,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    api = shipped
    monkeypatch.setenv("ITSMFLOW_MESSAGE_MAX_ATTEMPTS", "1")
    error = refused(api.post("/messages", "admin", json={"name": "nobody.listens", "data": {"n": 1}}), 404)
    assert "a dead letter now" in error["message"] and error["details"]["status"] == "dead"
    [letter] = ok(api.get("/messages/dead-letters", "admin"))["dead_letters"]
    assert (letter["id"], letter["sender"], letter["sent_by"], letter["to"]) == (
        error["details"]["message_id"], None, "admin", [])
    assert letter["payload"] == {"n": 1} and _health(api) == (0, 1)
