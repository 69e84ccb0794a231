"""Call activities to processes in other files: refused while the callee is not deployed, deployed together as a
bundle (callee first), run through the HTTP API, bound to the latest or a named version, shown as a hierarchy."""

from __future__ import annotations

import io
from typing import Any

from tests.api.conftest import Api
from tests.modellers.conftest import FIXTURES, deployed, refused


def _bundle(api: Api, *files: tuple[str, bytes]) -> Any:
    form = {"bpmn": [(io.BytesIO(data), name) for name, data in files]}
    return api.post("/processes/bundle", "grace", data=form, content_type="multipart/form-data")


def _file(name: str) -> tuple[str, bytes]:
    return name, (FIXTURES / name).read_bytes()


def _work(api: Api, task: dict, user: str) -> dict:
    assert api.post(f"/tasks/{task['id']}/claim", user).status_code == 200
    done = api.post(f"/tasks/{task['id']}/complete", user, json={"data": {}})
    assert done.status_code == 200, done.json
    return done.json


def test_caller_without_callee_is_refused_naming_the_call(api: Api) -> None:
    problems = refused(api, "c7_parent", "call_parent.bpmn")
    assert [(p["element_id"], p["line"]) for p in problems] == [("CallActivity_1", 5)]
    assert "'c7_child', which is not deployed" in problems[0]["message"]


def test_bundle_deploys_callee_first_and_the_call_runs(api: Api) -> None:
    resp = _bundle(api, _file("call_parent.bpmn"), _file("call_child.bpmn"))
    assert resp.status_code == 201, resp.json
    assert [(d["key"], d["version"]) for d in resp.json["deployed"]] == [("c7_child", 1), ("c7_parent", 1)]
    inst = api.post("/instances", "alice", json={"process": "c7_parent", "data": {"ticket": "T-1"}}).json
    assert [(t["element_id"], t["roles"]) for t in inst["tasks"]] == [("Task_child", ["service_desk"])]
    after = _work(api, inst["tasks"][0], "alice")
    assert [t["element_id"] for t in after["next_tasks"]] == ["Task_after"]
    final = _work(api, after["next_tasks"][0], "alice")
    assert final["instance"]["status"] == "completed"
    calls = api.get("/processes/c7_parent/calls", "grace").json
    assert calls["calls"] == [{"element_id": "CallActivity_1", "key": "c7_child", "version": 1, "calls": []}]
    called_by = api.get("/processes/c7_child/calls", "grace").json["called_by"]
    assert called_by == [{"key": "c7_parent", "version": 1, "element_id": "CallActivity_1", "calls_version": 1}]


def test_binding_by_version_and_latest(api: Api) -> None:
    deployed(api, "c7_child", "call_child.bpmn")
    child_v2 = (FIXTURES / "call_child.bpmn").read_bytes().replace(b'name="Child work"', b'name="Child work v2"')
    deployed(api, "c7_child", child_v2)
    latest = deployed(api, "c7_parent", "call_parent.bpmn")
    assert latest["version"] == 1
    assert api.get("/processes/c7_parent/calls", "grace").json["calls"][0]["version"] == 2
    pinned = (FIXTURES / "call_parent.bpmn").read_bytes().replace(
        b'calledElement="c7_child"',
        b'calledElement="c7_child" camunda:calledElementBinding="version" camunda:calledElementVersion="1"')
    deployed(api, "c7_parent", pinned)
    assert api.get("/processes/c7_parent/calls", "grace").json["calls"][0]["version"] == 1
    inst = api.post("/instances", "alice", json={"process": "c7_parent", "data": {}}).json
    assert inst["tasks"][0]["name"] == "Child work"
    missing = pinned.replace(b'camunda:calledElementVersion="1"', b'camunda:calledElementVersion="7"')
    problems = refused(api, "c7_parent", missing)
    assert "version 7 of process 'c7_child'" in problems[0]["message"]


def test_a_bundle_with_a_broken_file_deploys_nothing(api: Api) -> None:
    broken = ("broken.bpmn", b"<bpmn:definitions")
    resp = _bundle(api, _file("call_parent.bpmn"), _file("call_child.bpmn"), broken)
    assert resp.status_code == 422
    problems = resp.json["error"]["details"]["problems"]
    assert [p["file"] for p in problems] == ["broken.bpmn"]
    assert api.get("/processes", "grace").json == []
