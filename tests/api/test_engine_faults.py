"""Which faults put an instance in error and which roll a step back (issue 13, honest engine code): a decision
table that cannot answer is the diagram's fault, shown on the instance for a person to fix and retry; a database
that fails under a step is the host's fault: the step is rolled back, the instance and its trail stay as they
were, the caller is told so, and the same step then succeeds. A form constraint that cannot be read is refused
at deploy instead of being dropped."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import text

from engine.db.database import Database, unit_of_work
from tests.api.conftest import Api
from tests.bpmn_snippets import chain, constraint, field, user_task
from tests.support import PROCESSES

RECORD = {"summary": "Mail down", "service": "mail", "reporter": "ivan", "query_type": "incident", "impact": "high",
          "urgency": "low"}
PRIORITY = (PROCESSES / "response" / "priority.dmn").read_text()
# high/low is matched by rule 3 and, after this edit, by rule 2 too: a UNIQUE table with two hits cannot answer.
OVERLAPPING = PRIORITY.replace('<inputEntry id="priority_r2_urgency"><text>"medium"</text>',
                               '<inputEntry id="priority_r2_urgency"><text>"medium","low"</text>', 1)


def _rename(db: Database, old: str, new: str) -> None:
    with unit_of_work(db) as uow:
        uow.session.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))
        uow.commit()


def _raise_and_claim(api: Api) -> tuple[dict[str, Any], str]:
    inst = api.post("/instances", "ivan", json={"process": "response", "data": {}}).json
    task_id = inst["tasks"][0]["id"]
    assert api.post(f"/tasks/{task_id}/claim", "alice").status_code == 200
    return inst, task_id


def _trail(api: Api, key: str) -> list[str]:
    return [e["type"] for e in api.get(f"/instances/{key}/audit", "heidi").json["events"]]


def test_a_database_fault_rolls_the_step_back(api: Api) -> None:
    inst, task_id = _raise_and_claim(api)
    key = inst["business_key"]
    before = _trail(api, key)
    _rename(api.db, "decision_version", "decision_version_away")  # the priority table cannot be read
    try:
        failed = api.post(f"/tasks/{task_id}/complete", "alice", json={"data": RECORD})
    finally:
        _rename(api.db, "decision_version_away", "decision_version")
    assert failed.status_code == 503, failed.json
    assert failed.json["error"]["code"] == "database_error"
    assert "nothing was changed" in failed.json["error"]["message"]

    view = api.get(f"/instances/{key}", "heidi").json
    assert view["status"] == "running" and view.get("error") is None
    assert [t["element_id"] for t in view["tasks"]] == ["record"]
    assert "summary" not in view["data"]  # the completed form was not half kept
    assert _trail(api, key) == before

    done = api.post(f"/tasks/{task_id}/complete", "alice", json={"data": RECORD})
    assert done.status_code == 200, done.json
    assert done.json["instance"]["status"] == "running" and done.json["instance"]["data"]["priority"] == "P3"


def test_a_table_that_cannot_answer_puts_the_instance_in_error(api: Api) -> None:
    upload = {"dmn": (io.BytesIO(OVERLAPPING.encode()), "priority.dmn"), "tests": "[]"}
    assert api.post("/decisions/priority/versions", "grace", data=upload).status_code == 201
    inst, task_id = _raise_and_claim(api)
    key = inst["business_key"]
    done = api.post(f"/tasks/{task_id}/complete", "alice", json={"data": RECORD})
    assert done.status_code == 200, done.json
    view = done.json["instance"]
    assert view["status"] == "error"
    assert view["error"]["element_id"] == "prioritise"
    assert "priority_r2" in view["error"]["message"] and "priority_r3" in view["error"]["message"]
    assert view["data"]["summary"] == "Mail down"  # the completed form is kept
    assert _trail(api, key)[-1] == "instance.errored"

    # The owner fixes the table; an administrator retries; the record runs on.
    fixed = {"dmn": (io.BytesIO(PRIORITY.encode()), "priority.dmn"), "comment": "overlap removed"}
    assert api.post("/decisions/priority/versions", "grace", data=fixed).status_code == 201
    retried = api.post(f"/instances/{key}/retry", "admin", json={"reason": "table fixed"})
    assert retried.status_code == 200, retried.json
    after = api.get(f"/instances/{key}", "heidi").json
    assert after["status"] == "running" and after["data"]["priority"] == "P3"


def test_form_constraints_that_cannot_be_read_are_refused_at_deploy(api: Api) -> None:
    form = (field("hours", "long", constraint("min", "one") + constraint("max", "40"))
            + field("note", "string", constraint("maxlength", "ten") + constraint("pattern", "[a-z]+"))
            + field("size", "long", constraint("min", "5") + constraint("max", "1"))
            + field("code", "string", constraint("minlength")))
    xml = chain("forms", [user_task(0, fields=form)])
    resp = api.post("/processes/forms/versions", "grace", data={"bpmn": (io.BytesIO(xml.encode()), "forms.bpmn")})
    assert resp.status_code == 422, resp.json
    problems = resp.json["error"]["details"]["problems"]
    assert {p["element_id"] for p in problems} == {"n0"}
    messages = " | ".join(p["message"] for p in problems)
    assert "'hours': constraint 'min' must be a number, got 'one'" in messages
    assert "'note': constraint 'maxlength' must be a whole number of characters, got 'ten'" in messages
    assert "'note': constraint 'pattern' is not supported" in messages
    assert "'size': min 5 is greater than max 1" in messages
    assert "'code': constraint 'minlength' needs a value" in messages
    assert len(problems) == 5

    good = chain("forms", [user_task(0, fields=field("hours", "long", constraint("min", "1")))])
    ok = api.post("/processes/forms/versions", "grace", data={"bpmn": (io.BytesIO(good.encode()), "forms.bpmn")})
    assert ok.status_code == 201, ok.json
