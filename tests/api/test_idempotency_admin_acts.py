"""A retried completion gets its first answer (Idempotency-Key); an administrator taking an approval that is
not offered to them must say why, and it is recorded as admin.claimed (issue 11)."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.test_api import RECORD
from tests.bpmn_snippets import chain, user_task
from tests.support import deploy_xml


def test_a_retried_completion_returns_the_first_answer(api: Api) -> None:
    task = api.post("/instances", "ivan", json={"process": "response", "data": {}}).json["tasks"][0]
    api.post(f"/tasks/{task['id']}/claim", "alice")
    path = f"/tasks/{task['id']}/complete"
    first = api.post(path, "alice", json={"data": RECORD}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 200
    again = api.post(path, "alice", json={"data": RECORD}, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api.post(path, "alice", json={"data": RECORD}).status_code == 409  # without the key: already done
    other = api.post(path, "alice", json={"data": {**RECORD, "urgency": "high"}}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422 and "Idempotency-Key" in other.json["error"]["details"]["fields"]
    assert api.post(path, "alice", json={"data": RECORD}, headers={"Idempotency-Key": ""}).status_code == 400


APPROVAL = user_task(0, role="cab", name="Approve the change", props='<camunda:property name="approval" value="true"/>')


def test_an_admin_takes_an_approval_only_with_a_reason_and_it_is_recorded(api: Api) -> None:
    deploy_xml(api.db, chain("approve", [APPROVAL]))
    started = api.post("/instances", "ivan", json={"process": "approve", "data": {}})
    assert started.status_code == 201, started.json
    task_id, key = started.json["tasks"][0]["id"], started.json["business_key"]
    refused = api.post(f"/tasks/{task_id}/claim", "admin")
    assert refused.status_code == 400 and "reason" in refused.json["error"]["details"]["fields"]
    taken = api.post(f"/tasks/{task_id}/claim", "admin", json={"reason": "CAB unreachable, outage P1"})
    assert taken.status_code == 200 and taken.json["assignee"] == "admin"
    events = api.get(f"/instances/{key}/audit", "heidi").json["events"]
    admin_events = [e for e in events if e["type"] == "admin.claimed"]
    assert admin_events and admin_events[0]["data"]["reason"] == "CAB unreachable, outage P1"
    assert admin_events[0]["actor"] == "admin"
