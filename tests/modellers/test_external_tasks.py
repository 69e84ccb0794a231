"""Service tasks as Camunda-style external tasks: a worker built on workers/ (the repo's client library) fetches
and locks work over real HTTP, completes it with variables, throws BPMN errors and reports failures; locks
expire; incidents wait for an administrator; concurrent fetches on PostgreSQL never hand one task to two
workers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from werkzeug.serving import make_server

from engine import clock
from engine.db.database import Database
from engine.services import external_tasks, users
from engine.services.actors import Actor
from tests.api.conftest import Api
from tests.modellers.conftest import deployed
from web import create_app
from web.config import Settings
from workers import ApiError, ExternalTaskClient, Worker
from workers.example import charge_card

WORKER = Actor("worker", frozenset({"integration"}))


@pytest.fixture
def server(api: Api) -> Iterator[str]:
    """The same install served over HTTP on a free port, for the worker library."""
    app = create_app(Settings(database_url=api.db.url, secret_key="test-secret"), db=api.db)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)


def _pay(api: Api, **data: object) -> dict:
    resp = api.post("/instances", "alice", json={"process": "c7_payment", "data": data})
    assert resp.status_code == 201, resp.json
    return resp.json


def _events(api: Api, key: str) -> list[dict]:
    return api.get(f"/instances/{key}/audit", "heidi").json["events"]


def test_worker_completes_service_task_over_rest(api: Api, server: str) -> None:
    deployed(api, "c7_payment", "camunda7_payment.bpmn")
    inst = _pay(api, card_number="4111", amount="12.5")
    path = api.get(f"/instances/{inst['id']}/path", "heidi").json
    assert path["active"] == ["ChargeCard"]
    worker = Worker(ExternalTaskClient(server, username="worker", password="demo", worker_id="w1"))
    worker.subscribe("charge-card", charge_card)
    assert worker.run_once() == 1
    after = api.get(f"/instances/{inst['id']}", "heidi").json
    assert after["data"]["charged"] is True and after["data"]["receipt"] == f"R-{inst['business_key']}"
    assert [t["element_id"] for t in after["tasks"]] == ["ApproveRefund"]
    kinds = [e["type"] for e in _events(api, inst["business_key"])]
    assert kinds.index("external_task.created") < kinds.index("external_task.locked") < kinds.index(
        "external_task.completed")
    done = [e for e in _events(api, inst["business_key"]) if e["type"] == "external_task.completed"][0]
    assert done["actor"] == "worker" and done["data"]["worker_id"] == "w1" and done["element_id"] == "ChargeCard"
    assert worker.run_once() == 0  # nothing left to fetch


def test_bpmn_error_is_caught_by_the_boundary_event(api: Api, server: str) -> None:
    deployed(api, "c7_payment", "camunda7_payment.bpmn")
    inst = _pay(api, card_number="5500000000000000", amount="3")
    worker = Worker(ExternalTaskClient(server, username="worker", password="demo"))
    worker.subscribe("charge-card", charge_card)
    assert worker.run_once() == 1
    after = api.get(f"/instances/{inst['id']}", "heidi").json
    assert after["status"] == "completed" and after["data"]["declined"] is True
    path = api.get(f"/instances/{inst['id']}/path", "heidi").json
    assert "EndEvent_Declined" in path["completed"] and "ApproveRefund" not in path["completed"]


def test_failures_retry_with_back_off_then_become_an_incident(api: Api, server: str) -> None:
    deployed(api, "c7_payment", "camunda7_payment.bpmn")
    inst = _pay(api, card_number="4111", amount="not a number")
    worker = Worker(ExternalTaskClient(server, username="worker", password="demo"), retries=2, backoff_ms=60_000)
    worker.subscribe("charge-card", charge_card)
    assert worker.run_once() == 1  # fails: 1 retry left, not fetchable for a minute
    listed = api.get("/external-tasks", "grace").json["tasks"]
    assert listed[0]["retries"] == 1 and "could not convert" in listed[0]["error_message"]
    assert worker.run_once() == 0
    with time_machine.travel(clock.now() + timedelta(minutes=2), tick=False):
        assert worker.run_once() == 1  # fails again: 0 retries, an incident
        assert worker.run_once() == 0
    incidents = api.get("/external-tasks?incidents=1", "heidi").json["tasks"]
    assert [t["element_id"] for t in incidents] == ["ChargeCard"] and incidents[0]["incident"] is True
    kinds = [e["type"] for e in _events(api, inst["business_key"])]
    assert kinds.count("external_task.failed") == 1 and kinds.count("external_task.incident") == 1
    assert api.post(f"/external-tasks/{incidents[0]['id']}/retries", "worker", json={"retries": 1}).status_code == 403
    reset = api.post(f"/external-tasks/{incidents[0]['id']}/retries", "admin", json={"retries": 1})
    assert reset.status_code == 200 and reset.json["incident"] is False
    fetched = api.post("/external-tasks/fetch-and-lock", "worker", json={
        "worker_id": "w9", "topics": [{"topic_name": "charge-card", "lock_duration": 1000}]}).json["tasks"]
    assert [t["id"] for t in fetched] == [incidents[0]["id"]]


def test_expired_locks_return_to_the_queue(api: Api) -> None:
    deployed(api, "c7_payment", "camunda7_payment.bpmn")
    _pay(api, card_number="4111", amount="1")
    body = {"topics": [{"topic_name": "charge-card", "lock_duration": 10_000}]}
    first = api.post("/external-tasks/fetch-and-lock", "worker", json={**body, "worker_id": "a"}).json["tasks"]
    assert len(first) == 1
    assert api.post("/external-tasks/fetch-and-lock", "worker", json={**body, "worker_id": "b"}).json["tasks"] == []
    with time_machine.travel(clock.now() + timedelta(seconds=11), tick=False):
        second = api.post("/external-tasks/fetch-and-lock", "worker", json={**body, "worker_id": "b"}).json["tasks"]
    assert [t["id"] for t in second] == [first[0]["id"]]
    late = api.post(f"/external-tasks/{first[0]['id']}/complete", "worker", json={"worker_id": "a"})
    assert late.status_code == 409
    ok = api.post(f"/external-tasks/{first[0]['id']}/complete", "worker", json={"worker_id": "b", "variables": {}})
    assert ok.status_code == 200 and ok.json["status"] == "running"
    gone = api.post(f"/external-tasks/{first[0]['id']}/complete", "worker", json={"worker_id": "b"})
    assert gone.status_code == 404


def test_external_task_api_is_authenticated_and_checks_its_input(api: Api, server: str) -> None:
    body = {"worker_id": "w", "topics": [{"topic_name": "x", "lock_duration": 1000}]}
    assert api.post("/external-tasks/fetch-and-lock", json=body).status_code == 401
    assert api.post("/external-tasks/fetch-and-lock", "alice", json=body).status_code == 403
    for bad in ({"worker_id": "w", "topics": []}, {"worker_id": "", "topics": body["topics"]},
                {"worker_id": "w", "topics": [{"topic_name": "x", "lock_duration": -1}]},
                {"worker_id": "w", "topics": body["topics"], "max_tasks": 0}):
        resp = api.post("/external-tasks/fetch-and-lock", "worker", json=bad)
        assert resp.status_code == 400, bad
    with pytest.raises(ApiError) as err:
        ExternalTaskClient(server, username="alice", password="demo").fetch_and_lock({"x": 1000})
    assert err.value.status == 403


def test_concurrent_fetches_never_share_a_task(pg_db: Database) -> None:
    users.seed_demo_users(pg_db)
    app = create_app(Settings(database_url=pg_db.url, secret_key="test-secret"), db=pg_db)
    api = Api(app.test_client(), pg_db)
    deployed(api, "c7_payment", "camunda7_payment.bpmn")
    keys = {_pay(api, card_number="4111", amount="1")["business_key"] for _ in range(12)}
    got: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)
    topics = [external_tasks.TopicRequest("charge-card", 60_000)]

    def fetch(n: int) -> None:
        barrier.wait()
        while True:
            tasks = external_tasks.fetch_and_lock(pg_db, WORKER, f"w{n}", topics, 2)
            if not tasks:
                return
            with lock:
                got.extend(t["business_key"] for t in tasks)

    threads = [threading.Thread(target=fetch, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(got) == sorted(keys)
