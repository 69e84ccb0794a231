"""Implicit splits, data stores and timer dates without an offset, as bpmn.io and the Camunda Modeler write
them, through the HTTP API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.db.database import unit_of_work
from engine.db.models import ProcessInstance
from tests.api.conftest import Api
from tests.modellers.conftest import deployed


def _do(api: Api, task: dict) -> dict:
    api.post(f"/tasks/{task['id']}/claim", "bob")
    done = api.post(f"/tasks/{task['id']}/complete", "bob", json={"data": {}})
    assert done.status_code == 200, done.json
    return done.json


def test_implicit_parallel_and_inclusive_splits_and_data_stores(api: Api) -> None:
    body = deployed(api, "bpmnio_splits", "bpmnio_implicit_splits.bpmn")
    splits = {w["element_id"]: w["message"] for w in body["warnings"] if w["kind"] == "implicit_split"}
    assert "parallel split" in splits["fork"] and "inclusive" in splits["choose"]
    data = [w["message"] for w in body["warnings"] if w["kind"] == "data_as_documentation"]
    assert any("'Customer database'" in m for m in data) and any("'Order'" in m for m in data)
    inst = api.post("/instances", "alice", json={"process": "bpmnio_splits", "data": {}}).json
    tasks = {t["element_id"]: t for t in inst["tasks"]}
    assert set(tasks) == {"left", "right"}  # both branches of the implicit parallel split
    after = _do(api, tasks["right"])
    assert [t["element_id"] for t in after["next_tasks"]] == ["small"]  # amount 5: only the true condition
    _do(api, tasks["left"])
    final = _do(api, after["next_tasks"][0])
    assert final["instance"]["status"] == "completed"
    path = api.get(f"/instances/{inst['id']}/path", "heidi").json
    assert {"f1", "f2", "c_small"} <= set(path["flows"]) and "c_big" not in path["flows"]


@pytest.mark.parametrize(("zone", "hour"), [(None, 9), ("Europe/Berlin", 8)])
def test_timer_date_without_offset_is_read_in_the_configured_zone(api: Api, monkeypatch: pytest.MonkeyPatch,
                                                                   zone: str | None, hour: int) -> None:
    if zone:
        monkeypatch.setenv("ITSMFLOW_TIMER_TIMEZONE", zone)
    deployed(api, "c7_local_timer", "camunda7_local_timer.bpmn")
    inst = api.post("/instances", "alice", json={"process": "c7_local_timer", "data": {}})
    assert inst.status_code == 201, inst.json
    assert inst.json["status"] == "waiting"
    with unit_of_work(api.db, readonly=True) as uow:
        due = uow.session.execute(select(ProcessInstance.next_wakeup_at)).scalar_one()
    assert (due.year, due.month, due.day, due.hour, due.utcoffset().total_seconds()) == (2030, 12, 24, hour, 0)
