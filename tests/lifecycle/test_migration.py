"""Instance migration on live instances, on SQLite and PostgreSQL: the dry run changes nothing and says per
instance whether it can move and how; applying moves the movable ones in one audited act, keeps their claims,
data and timers, and the records then run on the new version."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from engine.db.database import Database, unit_of_work
from engine.db.models import AuditEvent, ProcessVersion
from engine.errors import BadRequest, NotAllowed, NotFound
from engine.services import audit, conformance, inbox_tally, instances, migration, tasks, timers
from tests.bpmn_snippets import HEAD
from tests.conftest import ALICE, BOB, IVAN
from tests.support import OWNER, deploy_process, deploy_xml, do, events, instance, task_for, task_ids


def chain(*steps: tuple[str, str]) -> str:
    """start -> each (id, role) user task in turn -> end."""
    ids = ["start", *[s for s, _ in steps], "end"]
    nodes = "".join(f'<bpmn:userTask id="{s}" name="Task {s}" camunda:candidateGroups="{r}"/>' for s, r in steps)
    flows = "".join(f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}"/>'
                    for a, b in zip(ids, ids[1:], strict=False))
    return (f'{HEAD}<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="start"/>{nodes}'
            f'<bpmn:endEvent id="end"/>{flows}</bpmn:process></bpmn:definitions>')


def request(**body: Any) -> migration.Request:
    return migration.parse_request("p", body)


@pytest.fixture
def world(db: Database) -> dict[str, str]:
    """Four records of p v1: at a, at b (claimed by bob), completed, cancelled; then v2 inserts x after b."""
    deploy_xml(db, chain(("a", "service_desk"), ("b", "resolver"), ("c", "service_desk")))
    at_a = instances.start(db, IVAN, "p", {"note": "first"}).business_key
    at_b = instances.start(db, IVAN, "p", {}).business_key
    do(db, ALICE, at_b, "a", {})
    tasks.claim(db, BOB, task_for(db, at_b, "b")["id"])
    done = instances.start(db, IVAN, "p", {}).business_key
    for step, who in (("a", ALICE), ("b", BOB), ("c", ALICE)):
        do(db, who, done, step, {})
    gone = instances.start(db, IVAN, "p", {}).business_key
    instances.cancel(db, tasks_actor("admin"), gone, "duplicate")
    deploy_xml(db, chain(("a", "service_desk"), ("b", "resolver"), ("x", "resolver"), ("c", "service_desk")))
    return {"at_a": at_a, "at_b": at_b, "done": done, "gone": gone}


def tasks_actor(role: str) -> Any:
    from engine.services.actors import Actor

    return Actor(role, frozenset({role}))


def acts(db: Database) -> list[dict[str, Any]]:
    """The migration acts in the trail (not tied to one instance)."""
    with unit_of_work(db) as uow:
        rows = uow.session.execute(select(AuditEvent).where(AuditEvent.type == "migration.applied")).scalars()
        return [audit.event_view(e) for e in rows]


def ids(db: Database, *keys: str) -> list[int]:
    return [instance(db, k)["id"] for k in keys]


def test_dry_run_lists_each_instance_and_changes_nothing(db: Database, world: dict[str, str]) -> None:
    everything = migration.dry_run(db, OWNER, request(from_version=1, to_version=2))
    by_key = {row["business_key"]: row for row in everything["instances"]}
    assert set(by_key) == {world["at_a"], world["at_b"]}  # the open ones of v1
    assert by_key[world["at_b"]]["elements"] == [
        {"element_id": "b", "name": "Task b", "kind": "UserTask", "state": "ready", "target": "b", "how": "same id"}]
    assert everything["movable"] == 2 and everything["blocked"] == 0

    chosen = migration.dry_run(db, OWNER, request(from_version=1, to_version=2,
                                                  instances=[*ids(db, world["done"]), world["gone"], 999, "P-9"]))
    reasons = {row["business_key"] or row["id"]: row["reasons"] for row in chosen["instances"]}
    assert reasons[world["done"]] == ["it is completed"] and reasons[world["gone"]] == ["it is cancelled"]
    assert reasons[999] == reasons["P-9"] == ["no such instance of this process"]
    assert chosen["movable"] == 0 and chosen["blocked"] == 4
    assert instance(db, world["at_b"])["version"] == 1  # nothing moved


def test_apply_moves_the_movable_in_one_audited_act(db: Database, world: dict[str, str]) -> None:
    before = task_for(db, world["at_b"], "b")
    result = migration.apply(db, OWNER, request(from_version=1, to_version=2,
                                                instances=ids(db, world["at_a"], world["at_b"], world["done"])),
                             "v2 adds the knowledge check")
    assert sorted(result["moved"]) == sorted([world["at_a"], world["at_b"]])
    assert instance(db, world["at_b"])["version"] == 2 and instance(db, world["done"])["version"] == 1
    after = task_for(db, world["at_b"], "b")
    assert (after["id"], after["assignee"]) == (before["id"], "bob")  # the claim survives the move
    with unit_of_work(db) as uow:  # the inbox tally counts the moved tasks under their new version
        assert inbox_tally.by_key(uow) == inbox_tally.counted(uow)
        v2 = uow.session.execute(select(ProcessVersion.id).where(ProcessVersion.key == "p",
                                                                 ProcessVersion.version == 2)).scalar_one()
        assert {key[0] for key in inbox_tally.by_key(uow)} == {v2}
    assert instance(db, world["at_a"])["data"]["note"] == "first"

    (moved,) = events(db, world["at_b"], "instance.migrated")
    assert moved["actor"] == "grace" and moved["data"]["reason"] == "v2 adds the knowledge check"
    assert (moved["data"]["from_version"], moved["data"]["to_version"], moved["data"]["mapping"]) == (1, 2, {"b": "b"})
    assert events(db, world["at_b"], "task.ready")[-1]["element_id"] == "b"  # not made ready a second time
    (act,) = acts(db)
    assert act["data"]["skipped"] == {world["done"]: ["it is completed"]}

    # The records now run on v2: after b comes the new task x.
    do(db, BOB, world["at_b"], "b", {})
    assert task_ids(db, world["at_b"]) == ["x"]
    do(db, ALICE, world["at_a"], "a", {})
    assert task_ids(db, world["at_a"]) == ["b"]
    with unit_of_work(db) as uow:
        assert conformance.report(uow, "p") == []


def test_an_element_without_counterpart_needs_a_map(db: Database, world: dict[str, str]) -> None:
    deploy_xml(db, chain(("a2", "service_desk"), ("c", "service_desk")))  # v3: a renamed, b is gone
    plan = migration.dry_run(db, OWNER, request(from_version=1, to_version=3, instances=ids(db, world["at_b"])))
    (row,) = plan["instances"]
    assert not row["movable"] and "b (ready) has no counterpart in the target version" in row["reasons"][0]
    assert row["elements"][0]["how"] == "missing"

    result = migration.apply(db, OWNER, request(from_version=1, to_version=3, mapping={"b": "c"},
                                                instances=ids(db, world["at_b"])), "b was merged into c")
    assert result["moved"] == [world["at_b"]]
    task = task_for(db, world["at_b"], "c")
    assert task["name"] == "Task c" and task["roles"] == ["service_desk"] and task["assignee"] == "bob"
    tasks.unclaim(db, BOB, task["id"])  # c is the service desk's: bob hands it over
    result = do(db, ALICE, world["at_b"], "c", {})
    assert result["instance"]["status"] == "completed"
    with unit_of_work(db) as uow:
        # The trail is read against v1 up to the move (a was done there), then against v3.
        assert conformance.report(uow, "p") == []


def test_bad_requests_change_nothing(db: Database, world: dict[str, str]) -> None:
    for body, field in ((dict(from_version=1), "to_version"), (dict(from_version="1", to_version=2), "from_version"),
                        (dict(from_version=1, to_version=1), "to_version"),
                        (dict(from_version=1, to_version=2, mapping=["b"]), "mapping"),
                        (dict(from_version=1, to_version=2, instances="all"), "instances"),
                        (dict(from_version=1, to_version=2, instances=list(range(600))), "instances")):
        with pytest.raises(BadRequest) as info:
            request(**body)
        assert field in info.value.details["fields"], body
    with pytest.raises(BadRequest) as info:
        migration.dry_run(db, OWNER, request(from_version=1, to_version=2, mapping={"nope": "x", "b": "zz"}))
    assert set(info.value.details["fields"]) == {"nope", "zz"}
    with pytest.raises(NotFound):
        migration.dry_run(db, OWNER, request(from_version=1, to_version=7))
    with pytest.raises(NotAllowed):
        migration.dry_run(db, BOB, request(from_version=1, to_version=2))
    with pytest.raises(BadRequest):
        migration.apply(db, OWNER, request(from_version=1, to_version=2), "  ")
    assert instance(db, world["at_a"])["version"] == 1


def test_sla_timers_keep_their_due_time_across_a_move(db: Database) -> None:
    from datetime import UTC, datetime

    from tests.processes.response_support import new_record
    from tests.support import PROCESSES

    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        deploy_process(db, "response")
        key = new_record(db, impact="high", urgency="high")  # P1: respond within 15 minutes
        due = task_for(db, key, "restore_first_line")["due_at"]
        assert due == (start + timedelta(minutes=15)).isoformat()
        xml = (PROCESSES / "response" / "response.bpmn").read_text()
        deploy_xml(db, xml.replace('name="Record and classify"', 'name="Log and classify"'), key="response")
        clock.shift(timedelta(minutes=10))
        migration.apply(db, OWNER, migration.parse_request("response", {"from_version": 1, "to_version": 2}),
                        "new wording")
        assert instance(db, key)["version"] == 2
        assert task_for(db, key, "restore_first_line")["due_at"] == due  # not restarted at the move
        clock.shift(timedelta(minutes=4))
        timers.fire_due(db)
        assert events(db, key, "timer.fired") == []
        clock.shift(timedelta(minutes=2))
        timers.fire_due(db)
        assert [e["element_id"] for e in events(db, key, "timer.fired")] == ["respond_timer_incident"]
