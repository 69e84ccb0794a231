"""Running instances: steps, statuses, script errors, the sandbox, long loops, the optimistic lock."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from engine.db.database import Database, unit_of_work
from engine.errors import Conflict
from engine.services import instances, stepping, tasks
from tests.bpmn_snippets import chain, human_loop_process, loop_process, script_task, user_task
from tests.conftest import ADMIN, ALICE, BOB, IVAN
from tests.support import deploy_xml, do, instance, task_for


def test_script_error_puts_instance_in_error_and_keeps_everything(db: Database) -> None:
    deploy_xml(db, chain("p", [user_task(0, fields='<camunda:formField id="x" type="long"/>'),
                               script_task(1, "y = 10 / x")]))
    inst = instances.start(db, IVAN, "p", {"note": "kept"})
    result = do(db, ALICE, inst.business_key, "n0", {"x": "0"})
    view = result["instance"]
    assert view["status"] == "error"
    assert view["error"]["element_id"] == "n1" and "division by zero" in view["error"]["message"]
    assert view["data"]["note"] == "kept" and view["data"]["x"] == 0  # the completed form is not lost
    with unit_of_work(db) as uow:
        events = [e.type for e in instances.audit.instance_events(uow, view["id"])]
    assert "task.completed" in events and events[-1] == "instance.errored"


def test_errored_instance_can_be_retried_by_admin(db: Database) -> None:
    deploy_xml(db, chain("p", [script_task(0, "y = 1 / x")]))
    inst = instances.start(db, IVAN, "p", {"x": 0})
    assert instance(db, inst.business_key)["status"] == "error"
    with unit_of_work(db) as uow:  # an administrator corrects the data in the engine state the hard way
        row = instances.find(uow, ADMIN, inst.business_key)
        state = row.state_json.replace('"x": 0', '"x": 2')
        uow.session.execute(text("UPDATE process_instance SET state_json = :s WHERE id = :i"),
                            {"s": state, "i": row.id})
        uow.commit()
    retried = instances.retry(db, ADMIN, inst.business_key, "data fixed")
    assert retried.status == "completed"


HOSTILE = {
    "import": "__import__('os').system('true')",
    "subclasses": "x = ().__class__.__base__.__subclasses__()",
    "open": "data = open('/etc/passwd').read()",
    "endless": "while True:\n    pass",
    "getattr-dunder": "x = getattr(1, '__class__')",
}


@pytest.mark.parametrize("script", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_scripts_fail_their_task(sqlite_db: Database, script: str) -> None:
    db = sqlite_db
    # Deploy-time checks catch most of these; run them anyway by bypassing validation through the engine's
    # own step: a script that passes compilation must still fail at run time.
    from engine.spiff.sandbox import ScriptRejected, compile_script

    try:
        compile_script(script)
    except ScriptRejected:
        return  # refused before it could ever run: the deploy check lists it (see test_deploy)
    deploy_xml(db, chain("p", [script_task(0, script)]))
    inst = instances.start(db, IVAN, "p", {})
    view = instance(db, inst.business_key)
    assert view["status"] == "error", view
    assert view["error"]["element_id"] == "n0"


def test_runaway_loop_is_stopped_by_the_budget(sqlite_db: Database) -> None:
    deploy_xml(sqlite_db, chain("p", [script_task(0, "n = 0\nwhile True:\n    n += 1")]))
    inst = instances.start(sqlite_db, IVAN, "p", {})
    view = instance(sqlite_db, inst.business_key)
    assert view["status"] == "error" and "lines" in view["error"]["message"]


def test_gateway_loop_of_1000_rounds_runs_to_its_real_end(db: Database) -> None:
    deploy_xml(db, loop_process("loop", 1000))
    inst = instances.start(db, IVAN, "loop", {})
    view = instance(db, inst.business_key)
    assert view["status"] == "running" and view["data"]["n"] == 1000
    assert [t["element_id"] for t in view["tasks"]] == ["review"]
    assert do(db, ALICE, inst.business_key, "review")["instance"]["status"] == "completed"


def test_human_rework_loop_stays_small(sqlite_db: Database) -> None:
    db = sqlite_db
    deploy_xml(db, human_loop_process("rework"))
    inst = instances.start(db, IVAN, "rework", {"rounds": 0})
    sizes = []
    for _ in range(60):
        do(db, BOB, inst.business_key, "work", {"done": False}, claim=False)
        with unit_of_work(db) as uow:
            sizes.append(len(instances.find(uow, ADMIN, inst.business_key).state_json))
    assert instance(db, inst.business_key)["data"]["rounds"] == 60
    assert max(sizes[30:]) <= max(sizes[:10]) * 1.2, sizes  # bounded: completed history lives in the audit
    assert do(db, BOB, inst.business_key, "work", {"done": True})["instance"]["status"] == "completed"


def test_stale_writer_gets_a_conflict(db: Database) -> None:
    deploy_xml(db, chain("p", [user_task(0), user_task(1)]))
    inst = instances.start(db, IVAN, "p", {})
    task = task_for(db, inst.business_key, "n0")
    with unit_of_work(db) as uow:
        row = stepping.lock_instance(uow, inst.id)
        runner, lv = stepping.restore(uow, row)
        log = runner.complete(task["id"], {})
        # Someone else's step lands between our read and our write.
        uow.session.execute(text("UPDATE process_instance SET revision = revision + 1 WHERE id = :i"), {"i": row.id})
        with pytest.raises(Conflict):
            stepping.save_step(uow, row, runner, lv, log, "alice", [], row.revision)
    assert task_for(db, inst.business_key, "n0")  # nothing of the stale step landed


def test_revision_increases_by_one_per_step(db: Database) -> None:
    deploy_xml(db, chain("p", [user_task(0), user_task(1)]))
    inst = instances.start(db, IVAN, "p", {})
    r0 = instance(db, inst.business_key)["revision"]
    do(db, ALICE, inst.business_key, "n0", claim=False)
    assert instance(db, inst.business_key)["revision"] == r0 + 1


def test_statuses(db: Database) -> None:
    deploy_xml(db, chain("p", [user_task(0)]))
    inst = instances.start(db, IVAN, "p", {})
    assert instance(db, inst.business_key)["status"] == "running"
    cancelled = instances.cancel(db, ADMIN, inst.business_key, "raised twice")
    assert cancelled.status == "cancelled"
    view = instance(db, inst.business_key)
    assert view["tasks"] == [] and view["ended_at"]
    with unit_of_work(db) as uow:
        events = instances.audit.instance_events(uow, inst.id)
        cancelled_ev = [e for e in events if e.type == "instance.cancelled"]
        assert json.loads(cancelled_ev[0].data_json)["reason"] == "raised twice"
        assert "task.withdrawn" in [e.type for e in events]


def test_data_must_be_an_object(db: Database) -> None:
    deploy_xml(db, chain("p", [user_task(0)]))
    from engine.errors import BadRequest

    with pytest.raises(BadRequest):
        instances.start(db, IVAN, "p", ["not", "an", "object"])  # type: ignore[arg-type]
    assert tasks  # module used by the fixtures above
