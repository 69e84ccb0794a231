"""A major incident through the HTTP API, its stakeholder-update timer fired by the worker on a frozen clock:
declared by the major_incident table (P1, many users), a manager assigned, updates until restoration, a
post-incident review before closure that opens an improvement item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine

from engine.services import timers
from tests.api.conftest import Api
from tests.support import deploy_process

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OUTAGE = {"summary": "Donations site down", "description": "Every page answers 502", "service": "donations",
          "reporter": "ivan", "query_type": "incident", "impact": "high", "urgency": "high", "users_affected": 400}


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.data[:400])
    return resp.json


def _task(api: Api, key: str, element: str, user: str = "heidi") -> dict[str, Any]:
    (task,) = [t for t in _ok(api.get(f"/instances/{key}", user))["tasks"] if t["element_id"] == element]
    return task


def _updates(api: Api, user: str) -> list[dict[str, Any]]:
    return [n for n in _ok(api.get("/notifications", user))["notifications"] if n["kind"] == "stakeholder_update"]


def _done(api: Api, key: str, element: str, user: str, data: dict[str, Any]) -> None:
    _ok(api.post(f"/tasks/{_task(api, key, element)['id']}/complete", user, json={"data": data}))


def _root_cause_addressed(api: Api, key: str) -> None:
    """Root cause, an RFC, the user told, the change's report (no change process here: posted), the fix reviewed."""
    _done(api, key, "analyse_root_cause", "percy", {"root_cause": "the load balancer's disk wore out"})
    _done(api, key, "raise_fix", "percy", {"title": "Mirror the load balancer's disk", "permanent_fix": "RAID1",
                                           "estimated_hours": 3, "users_affected": 400, "donor_facing": True})
    _done(api, key, "inform_user", "alice", {"user_informed_note": "permanent fix planned"})
    _ok(api.post("/messages", "admin", json={"name": "change.implemented", "correlation": {"business_key": key},
                                             "data": {}}), 202)
    _done(api, key, "review_fix", "percy", {"fix_effective": True})


def test_a_major_incident_runs_through_its_update_timer(api: Api) -> None:
    deploy_process(api.db, "improvement")
    with time_machine.travel(T0, tick=False) as clock:
        inst = _ok(api.post("/instances", "ivan", json={"process": "response", "data": {}}), 201)
        key = inst["business_key"]
        done = _ok(api.post(f"/tasks/{inst['tasks'][0]['id']}/complete", "alice", json={"data": OUTAGE}))
        assert [t["element_id"] for t in done["next_tasks"]] == ["assign_major_manager"]
        data = done["instance"]["data"]
        assert (data["major_incident"], data["major_reason"]) == (True, "P1 affecting 50 or more users")

        assign = _task(api, key, "assign_major_manager")["id"]
        refused = _ok(api.post(f"/tasks/{assign}/complete", "alice", json={"data": {}}), 422)
        assert "major_incident_manager" in refused["error"]["details"]["fields"]
        _ok(api.post(f"/tasks/{assign}/complete", "alice",
                     json={"data": {"major_incident_manager": "bob", "stakeholders": "carol frank"}}))
        restore = _task(api, key, "restore_major")
        assert restore["assignee"] == "bob"
        _ok(api.post(f"/instances/{key}/comments", "bob",
                     json={"body": "Load balancer replaced; pages coming back", "visibility": "public"}), 201)

        clock.shift(timedelta(minutes=31))
        timers.run_worker(api.db, once=True)
        (first,) = _updates(api, "carol")
        assert first["subject"] == f"[{key}] Update 1 on major incident {key}"
        assert "Load balancer replaced" in first["body"]
        clock.shift(timedelta(minutes=30))
        timers.run_worker(api.db, once=True)
        assert len(_updates(api, "frank")) == 2 and len(_updates(api, "ivan")) == 2
        assert _updates(api, "dave") == []  # not a stakeholder

        _ok(api.post(f"/tasks/{restore['id']}/complete", "bob", json={"data": {"resolution": "new load balancer"}}))
        clock.shift(timedelta(hours=4))
        timers.run_worker(api.db, once=True)
        assert len(_updates(api, "carol")) == 2  # restored: the updates stopped

        _ok(api.post(f"/tasks/{_task(api, key, 'confirm')['id']}/complete", "ivan",
                     json={"data": {"user_confirmed": True}}))
        _ok(api.post(f"/tasks/{_task(api, key, 'assess_impact')['id']}/complete", "alice",
                     json={"data": {"material_impact": False}}))
        _root_cause_addressed(api, key)  # a P1: the root_cause table requires it whatever the desk answered
        review = _task(api, key, "post_incident_review")
        assert review["assignee"] == "bob" and [t["element_id"] for t in _ok(api.get(f"/instances/{key}",
                                                                                    "heidi"))["tasks"]] == [
            "post_incident_review"]  # no closure before the review
        _ok(api.post(f"/tasks/{review['id']}/complete", "alice", json={"data": {}}), 403)
        _ok(api.post(f"/tasks/{review['id']}/complete", "bob", json={"data": {
            "pir_summary": "502s from 9:00 to 10:10; the load balancer's disk failed",
            "opportunity": "Alert on the load balancer's disk health"}}))
        items = _ok(api.get("/instances?process=improvement", "heidi"))["instances"]
        assert len(items) == 1 and items[0]["business_key"].startswith("IMP-")
        item = _ok(api.get(f"/instances/{items[0]['business_key']}", "heidi"))["data"]
        assert (item["opportunity"], item["source"]) == ("Alert on the load balancer's disk health", "review")
        closed = _ok(api.post(f"/tasks/{_task(api, key, 'close')['id']}/complete", "alice",
                              json={"data": {"closure_note": "reviewed"}}))
        assert closed["instance"]["status"] == "completed"
    path = _ok(api.get(f"/instances/{key}/path", "heidi"))["flows"]
    assert path.count("flow_major_update") == 2 and "flow_pir" in path
