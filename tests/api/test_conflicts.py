"""A write the database refuses as clashing with what is stored is answered 409 with a clear message and keeps
nothing, never a 500: the unit of work says it as a WriteConflict, web/errors.py maps it with the other conflicts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from engine import clock
from engine.db.database import Database
from engine.db.models import ProcessDraft
from engine.services import users
from tests.api.conftest import Api, api_on
from tests.lifecycle.test_lifecycle_api import RESPONSE, bpmn


def test_one_incident_named_twice_is_linked_once(api: Api) -> None:
    # Named by business key and by id, the one record was inserted twice and the constraint's refusal was a 500.
    users.add_user(api.db, "pat", "demo", ["problem_team"])
    inst = api.post("/instances", "ivan", json={"process": "response", "data": {}})
    assert inst.status_code == 201, inst.json
    key = inst.json["business_key"]
    made = api.post("/problems", "pat", json={"title": "Mail relay drops messages",
                                              "incidents": [key, str(inst.json["id"])]})
    assert made.status_code == 201, made.json
    assert made.json["incidents"] == [key]
    again = api.post(f"/problems/{made.json['key']}/incidents", "pat", json={"incidents": [str(inst.json["id"])]})
    assert again.status_code == 200 and again.json["incidents"] == [key]


@pytest.fixture
def pg_api(pg_db: Database) -> Iterator[Api]:
    yield api_on(pg_db)


def test_a_draft_saved_twice_at_once_is_a_conflict_not_a_500(pg_api: Api) -> None:
    """PostgreSQL: another request inserts grace's first draft of `response` and commits while this one, which
    found none, waits on the unique index to insert its own. (SQLite queues writers before they read.)"""
    pg_api.token("grace")
    other = Session(pg_api.db.engine)
    try:
        now = clock.now()
        other.add(ProcessDraft(key="response", author="grace", bpmn_xml=RESPONSE, lanes_json="{}", note="first",
                               created_at=now, saved_at=now))
        other.flush()
        holder = other.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()

        def commit_once_blocked() -> None:
            # Commit only when the request waits on this transaction's row: the clash happens every run.
            waiting = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
            with pg_api.db.engine.connect() as conn:
                for _ in range(600):
                    if conn.execute(waiting, {"pid": holder}).scalar():
                        break
                    time.sleep(0.05)
            other.commit()

        committer = threading.Thread(target=commit_once_blocked)
        committer.start()
        resp = pg_api.post("/processes/response/drafts", "grace", data=bpmn(RESPONSE, note="second"))
        committer.join()
    finally:
        other.close()
    assert resp.status_code == 409, (resp.status_code, resp.data[:400])
    error = resp.json["error"]
    assert error["code"] == "conflict"
    assert "duplicates something saved at the same time" in error["message"]
    assert "nothing was changed" in error["message"]
    drafts = pg_api.get("/processes/response/drafts", "grace").json
    assert [d["note"] for d in drafts] == ["first"]  # the refused save kept nothing
