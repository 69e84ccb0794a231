"""Scenarios of processes/release: every path of the release diagram, driven through the services as the roles would.

Bundled changes are plain keys here; test_change_release_flow.py runs releases against real waiting changes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from engine.db.database import Database, unit_of_work
from engine.db.models import Message, ProcessInstance
from engine.errors import NotAllowed
from engine.services import instances, messages
from tests.conftest import ADMIN, ERIN, FRANK
from tests.support import data, deploy_process, do, events, instance, task_ids


# ---------------------------------------------------------------- helpers
def start_release(db: Database, changes: list[str] | None = None) -> str:
    data: dict[str, Any] = {"title": "November platform release"}
    if changes is not None:
        data["changes"] = changes
    return instances.start(db, FRANK, "release", data).business_key


def plan(db: Database, key: str, date: str = "2026-12-07") -> None:
    do(db, FRANK, key, "plan", {"title": "November platform release", "scope": "VPN firmware, mail relay",
                                "planned_date": date, "deployment_plan": "Sunday 06:00, site by site"})


def build_and_test(db: Database, key: str) -> None:
    do(db, ERIN, key, "build", {"build_passed": True, "build_note": "package 2026.11.3"})
    do(db, ERIN, key, "test", {"tests_passed": True, "test_report": "all green"})


def ready(db: Database, key: str) -> None:
    do(db, FRANK, key, "readiness", {"docs_updated": True, "support_trained": True})


def review(db: Database, key: str) -> dict[str, Any]:
    return do(db, FRANK, key, "review", {"lessons_learned": "book the failover test earlier"})








def deployed_message(db: Database) -> dict[str, Any]:
    with unit_of_work(db) as uow:
        msg = uow.session.execute(select(Message).where(Message.name == "release.deployed")).scalar_one()
        return {"status": msg.status, "payload": json.loads(msg.payload_json)}


# ---------------------------------------------------------------- scenarios
def test_release_is_rebuilt_and_retested_until_it_passes_then_deployed(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "release")
    key = start_release(db, changes=["RFC-000101", "RFC-000102"])
    assert key.startswith("REL-")
    record = data(db, key)
    assert record["changes"] == ["RFC-000101", "RFC-000102"]
    assert (record["build_passed"], record["ready"], record["deployed"], record["rolled_back"]) == (
        False, False, False, False)
    assert "release_requested" not in record
    plan(db, key)

    do(db, ERIN, key, "build", {"build_passed": False, "build_note": "dependency missing"})
    assert task_ids(db, key) == ["build"]  # build failed: build again
    do(db, ERIN, key, "build", {"build_passed": True})
    do(db, ERIN, key, "test", {"tests_passed": False, "test_report": "security scan: 2 findings"})
    assert task_ids(db, key) == ["build"]  # tests failed: back to the build
    build_and_test(db, key)
    assert task_ids(db, key) == ["readiness"]
    with pytest.raises(NotAllowed):  # building is the implementers' work, readiness the release manager's
        do(db, ERIN, key, "readiness", {"docs_updated": True, "support_trained": True})

    ready(db, key)
    do(db, ERIN, key, "deploy", {"deployed": True, "deployment_note": "all sites done by 07:40"})
    assert task_ids(db, key) == ["review"]
    result = review(db, key)
    assert result["instance"]["status"] == "completed"
    final = data(db, key)
    assert final["ready"] is True and final["deployed"] is True and final["rolled_back"] is False
    # every bundled change is told; nobody waits for these made-up keys, so the message is kept for a retry
    sent = deployed_message(db)
    assert sent["payload"]["changes"] == ["RFC-000101", "RFC-000102"]
    assert sent["payload"]["deployed"] is True and sent["status"] == "unrouted"


def test_release_waits_until_documentation_and_support_are_ready(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "release")
    key = start_release(db, changes=["RFC-000103"])
    plan(db, key)
    build_and_test(db, key)
    do(db, FRANK, key, "readiness", {"docs_updated": True, "support_trained": False,
                                     "readiness_note": "service desk not briefed"})
    assert data(db, key)["ready"] is False
    assert task_ids(db, key) == ["prepare_readiness"]
    do(db, ERIN, key, "prepare_readiness", {"readiness_actions": "briefed the service desk, FAQ published"})
    assert task_ids(db, key) == ["readiness"]
    ready(db, key)
    assert data(db, key)["ready"] is True
    assert task_ids(db, key) == ["deploy"]


def test_failed_deployment_is_rolled_back_and_the_release_replanned(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "release")
    key = start_release(db, changes=["RFC-000104"])
    plan(db, key)
    build_and_test(db, key)
    ready(db, key)
    do(db, ERIN, key, "deploy", {"deployed": False, "deployment_note": "site B lost the tunnels"})
    assert task_ids(db, key) == ["rollback"]
    do(db, ERIN, key, "rollback", {"rolled_back": True, "rollback_note": "firmware 9.1 restored on all sites"})
    do(db, FRANK, key, "decide_after_rollback", {"replan": True, "decision_note": "vendor hotfix due Friday"})
    assert task_ids(db, key) == ["plan"]
    plan(db, key, date="2026-12-14")
    build_and_test(db, key)
    ready(db, key)
    do(db, ERIN, key, "deploy", {"deployed": True})
    review(db, key)
    final = data(db, key)
    assert final["deployed"] is True and final["rolled_back"] is True  # it was rolled back once
    assert final["planned_date"] == "2026-12-14"
    assert deployed_message(db)["payload"]["deployed"] is True


def test_failed_deployment_is_rolled_back_and_the_release_closed_as_failed(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "release")
    key = start_release(db, changes=["RFC-000105"])
    plan(db, key)
    build_and_test(db, key)
    ready(db, key)
    do(db, ERIN, key, "deploy", {"deployed": False})
    do(db, ERIN, key, "rollback", {"rolled_back": True, "rollback_note": "restored"})
    do(db, FRANK, key, "decide_after_rollback", {"replan": False, "decision_note": "the vendor withdrew the build"})
    assert task_ids(db, key) == ["review"]
    review(db, key)
    final = instance(db, key)
    assert final["status"] == "completed"
    assert final["data"]["deployed"] is False and final["data"]["rolled_back"] is True
    payload = deployed_message(db)["payload"]  # the changes still hear how it ended
    assert payload["deployed"] is False and payload["changes"] == ["RFC-000105"]


def test_release_requested_by_a_change_bundles_that_change(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "release")
    routing = messages.post(db, ADMIN, "release.requested", {"business_key": "RFC-000777"},
                            {"title": "Upgrade the VPN concentrator", "change_class": "normal"})
    with unit_of_work(db) as uow:
        key = uow.session.get(ProcessInstance, routing.started[0]).business_key
    record = data(db, key)
    assert record["origin_key"] == "RFC-000777"
    assert record["changes"] == ["RFC-000777"]
    assert record["title"] == "Upgrade the VPN concentrator"
    assert task_ids(db, key) == ["plan"]


def test_release_started_with_a_single_change_key_as_text(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "release")
    key = instances.start(db, FRANK, "release", {"changes": "RFC-000106"}).business_key
    assert data(db, key)["changes"] == ["RFC-000106"]
    no_changes = start_release(db)
    assert data(db, no_changes)["changes"] == []
    assert events(db, no_changes, "instance.started")
