"""Change and release together: a change hands over to release (release.requested), the release deploys and
reports back to every bundled change (release.deployed), the change closes and tells its origin
(change.implemented)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from engine.db.database import Database, unit_of_work
from engine.db.models import ProcessInstance
from engine.services import instances
from tests.conftest import CAROL, CORA, ERIN, FRANK, IVAN
from tests.support import deploy_process, deploy_xml, do, events, instance, open_tasks

# Stands in for a response record that raises an RFC for a permanent fix and waits until it is implemented.
FIX_REQUESTER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="fix_definitions"
    targetNamespace="http://itsmflow.example/tests">
  <bpmn:process id="fixrequest" name="Permanent fix requester (test stand-in)" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateThrowEvent id="raise_rfc"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="rfc_raised" /></bpmn:intermediateThrowEvent>
    <bpmn:intermediateCatchEvent id="wait_fix"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="change_implemented" /></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="raise_rfc" />
    <bpmn:sequenceFlow id="f2" sourceRef="raise_rfc" targetRef="wait_fix" />
    <bpmn:sequenceFlow id="f3" sourceRef="wait_fix" targetRef="end" />
  </bpmn:process>
  <bpmn:message id="rfc_raised" name="rfc.raised" />
  <bpmn:message id="change_implemented" name="change.implemented" />
</bpmn:definitions>
"""


# ---------------------------------------------------------------- helpers
def approved_change(db: Database, key: str) -> None:
    """The change's own steps up to the hand-over: assessed, planned, approved by the IT manager."""
    do(db, ERIN, key, "assess", {"assessment": "valid", "estimated_hours": 2, "users_affected": 20,
                                 "donor_facing": False})
    do(db, ERIN, key, "schedule", {"change_window_start": "2026-12-05", "change_window_end": "2026-12-06"})
    do(db, ERIN, key, "prepare", {"backout_plan": "restore the previous package", "risk_likelihood": 2,
                                  "risk_impact": 2})
    do(db, CAROL, key, "approve_it_manager", {"approved": True})
    do(db, CAROL, key, "inform_stakeholders", {"stakeholders_informed": True, "communication_note": "mail sent"})


def releases_of(db: Database, change_key: str) -> list[str]:
    with unit_of_work(db) as uow:
        stmt = select(ProcessInstance.business_key).where(ProcessInstance.process_key == "release",
                                                          ProcessInstance.origin_key == change_key)
        return list(uow.session.execute(stmt).scalars())


def run_release(db: Database, key: str, deployed: bool = True) -> dict[str, Any]:
    do(db, FRANK, key, "plan", {"title": "Release for " + ", ".join(instance(db, key)["data"]["changes"]),
                                "scope": "the bundled changes", "planned_date": "2026-12-05",
                                "deployment_plan": "Saturday 06:00"})
    do(db, ERIN, key, "build", {"build_passed": True})
    do(db, ERIN, key, "test", {"tests_passed": True})
    do(db, FRANK, key, "readiness", {"docs_updated": True, "support_trained": True})
    do(db, ERIN, key, "deploy", {"deployed": deployed})
    if not deployed:
        do(db, ERIN, key, "rollback", {"rolled_back": True, "rollback_note": "previous package restored"})
        do(db, FRANK, key, "decide_after_rollback", {"replan": False})
    return do(db, FRANK, key, "review", {"lessons_learned": "dry-run the deployment plan"})




def instance_id(db: Database, key: str) -> int:
    return instance(db, key)["id"]


# ---------------------------------------------------------------- scenarios
def test_change_requests_a_release_which_deploys_and_closes_the_change(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    deploy_process(db, "release")
    change = instances.start(db, CORA, "change", {"title": "Upgrade the mail relay", "service": "mail",
                                                  "requester": "ivan"}).business_key
    approved_change(db, change)

    [release] = releases_of(db, change)  # started by release.requested, with the change's data
    rel = instance(db, release)
    assert rel["origin_key"] == change and rel["data"]["changes"] == [change]
    assert rel["data"]["title"] == "Upgrade the mail relay"
    assert [e["data"]["via"]["message"] for e in events(db, release, "instance.started")] == ["release.requested"]
    assert instance(db, change)["status"] == "waiting"

    result = run_release(db, release)
    assert result["instance"]["status"] == "completed"

    closed = instance(db, change)
    assert closed["status"] == "completed"
    assert closed["data"]["implemented"] is True and closed["data"]["release"] == release
    assert closed["data"]["release_lessons_learned"] == "dry-run the deployment plan"

    # message.delivered in both instances: the change sent release.requested (to the release it started) and
    # received release.deployed; the release sent release.deployed to the change.
    change_delivered = events(db, change, "message.delivered")
    assert {"name": "release.requested", "to": [rel["id"]]}.items() <= change_delivered[0]["data"].items()
    received = [e for e in change_delivered if e["element_id"] == "wait_release"]
    assert received and received[0]["data"]["name"] == "release.deployed" and received[0]["data"]["from"] == release
    release_delivered = events(db, release, "message.delivered")
    assert [(e["data"]["name"], e["data"]["to"]) for e in release_delivered] == [
        ("release.deployed", [instance_id(db, change)])]
    assert [e["data"]["name"] for e in events(db, change, "message.sent")] == ["release.requested",
                                                                               "change.implemented"]


def test_rfc_raised_by_a_record_wakes_it_when_the_change_is_implemented(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    deploy_process(db, "release")
    deploy_xml(db, FIX_REQUESTER)
    origin = instances.start(db, IVAN, "fixrequest", {"summary": "Permanent fix: replace the mail relay",
                                                      "service": "mail"}).business_key
    assert instance(db, origin)["status"] == "waiting"
    with unit_of_work(db) as uow:
        change = uow.session.execute(select(ProcessInstance.business_key).where(
            ProcessInstance.process_key == "change")).scalar_one()
    record = instance(db, change)["data"]
    assert record["origin_key"] == origin and record["change_class"] == "normal"
    assert record["title"] == "Permanent fix: replace the mail relay"

    approved_change(db, change)
    [release] = releases_of(db, change)
    run_release(db, release)

    assert instance(db, change)["status"] == "completed"
    woken = instance(db, origin)
    assert woken["status"] == "completed"
    assert woken["data"]["change_implemented"]["implemented"] is True
    assert woken["data"]["change_implemented"]["business_key"] == change
    assert [e["data"]["name"] for e in events(db, origin, "message.delivered") if e["element_id"] == "wait_fix"] == [
        "change.implemented"]


def test_one_release_reports_to_every_change_it_bundles(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    deploy_process(db, "release")
    changes = [instances.start(db, CORA, "change", {"title": title, "requester": "ivan"}).business_key
               for title in ("Patch the file servers", "Patch the print servers")]
    for change in changes:
        approved_change(db, change)
    # The release manager bundles both into one release and cancels the single ones.
    for change in changes:
        for single in releases_of(db, change):
            instances.cancel(db, FRANK, single, f"bundled with {', '.join(changes)}")
    bundle = instances.start(db, FRANK, "release", {"title": "Patch Tuesday", "changes": changes}).business_key
    run_release(db, bundle)

    for change in changes:
        closed = instance(db, change)
        assert closed["status"] == "completed"
        assert closed["data"]["release"] == bundle and closed["data"]["implemented"] is True
    [sent] = events(db, bundle, "message.delivered")
    assert sorted(sent["data"]["to"]) == sorted(instance_id(db, c) for c in changes)
    assert json.loads(json.dumps(instance(db, bundle)["data"]["changes"])) == changes


def test_release_closed_as_failed_leaves_the_change_to_be_reviewed(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "change")
    deploy_process(db, "release")
    change = instances.start(db, CORA, "change", {"title": "Move DNS to the new provider",
                                                  "requester": "ivan"}).business_key
    approved_change(db, change)
    [release] = releases_of(db, change)
    run_release(db, release, deployed=False)
    assert [t["element_id"] for t in open_tasks(db, change)] == ["review_failed"]
    do(db, CAROL, change, "review_failed", {"failure_review": "provider API rate limits; new RFC after their fix"})
    closed = instance(db, change)
    assert closed["status"] == "completed"
    assert closed["data"]["implemented"] is False and closed["data"]["release"] == release
