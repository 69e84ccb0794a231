"""Drafts, deploy comments, lint warnings and rollback as an integration (or the modeller) uses them."""

from __future__ import annotations

import io
import json
from typing import Any

from tests.lifecycle.conftest import Api
from tests.support import PROCESSES

RESPONSE = (PROCESSES / "response" / "response.bpmn").read_text()
# No demo user is in the problem team: its tasks are warned about in every lint of the shipped response.
# Every role the shipped response routes to is held by a demo user (percy is the problem team): no no_role warning.
UNHELD: set[tuple[str, str]] = set()
ORPHAN = '<bpmn:userTask id="orphan" name="Orphan" camunda:candidateGroups="service_desk"/>'


def bpmn(xml: str, **fields: Any) -> dict[str, Any]:
    return {"bpmn": (io.BytesIO(xml.encode()), "response.bpmn"), **fields}


def with_orphan(xml: str = RESPONSE) -> str:
    return xml.replace("</bpmn:process>", ORPHAN + "</bpmn:process>", 1)


def test_drafts_are_saved_listed_replaced_and_not_deployed(api: Api) -> None:
    saved = api.post("/processes/response/drafts", "grace", data=bpmn(with_orphan(), note="wip"))
    assert saved.status_code == 200, saved.json
    assert (saved.json["author"], saved.json["base_version"], saved.json["note"]) == ("grace", 1, "wip")
    found = {(w["element_id"], w["kind"]) for w in saved.json["warnings"]}
    # the orphan, and nothing else
    assert found == {("orphan", "disconnected")} | UNHELD
    assert [v["version"] for v in api.get("/processes/response/versions", "grace").json] == [1]

    again = api.post("/processes/response/drafts", "grace", data=bpmn(RESPONSE))
    assert again.json["id"] == saved.json["id"]
    assert {(w["element_id"], w["kind"]) for w in again.json["warnings"]} == UNHELD
    admins = api.post("/processes/response/drafts", "admin", data=bpmn(with_orphan()))
    listed = api.get("/processes/response/drafts", "grace").json
    assert sorted(d["author"] for d in listed) == ["admin", "grace"]
    xml = api.get(f"/processes/response/drafts/{saved.json['id']}/bpmn", "grace").get_data(as_text=True)
    assert "orphan" not in xml and 'id="record"' in xml

    # Only its author (or admin) discards it; deploying from the modeller with from_draft removes the author's.
    assert api.call("DELETE", f"/processes/response/drafts/{admins.json['id']}", "grace").status_code == 403
    deployed = api.post("/processes/response/versions", "grace",
                        data=bpmn(RESPONSE.replace('name="Record and classify"', 'name="Log"'), from_draft="1",
                                  comment="from my draft", origin="modeller"))
    assert deployed.status_code == 201 and len(deployed.json["warnings"]) == len(UNHELD)
    assert [d["author"] for d in api.get("/processes/response/drafts", "grace").json] == ["admin"]
    assert api.call("DELETE", f"/processes/response/drafts/{admins.json['id']}", "admin").status_code == 204
    assert api.get("/processes/response/drafts", "grace").json == []


def test_bad_drafts_and_who_may_save(api: Api) -> None:
    assert api.post("/processes/response/drafts", "alice", data=bpmn(RESPONSE)).status_code == 403
    assert api.post("/processes/response/drafts", "grace", data={}).status_code == 400
    hostile = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x/>'
    resp = api.post("/processes/response/drafts", "grace", data=bpmn(hostile))
    assert resp.status_code == 400 and "DOCTYPE" in resp.json["error"]["message"]
    resp = api.post("/processes/change/drafts", "grace", data=bpmn(RESPONSE))
    assert resp.status_code == 400 and "no process with id 'change'" in resp.json["error"]["message"]
    assert api.post("/processes/response/drafts", "grace", data=bpmn(RESPONSE, base_version="x")).status_code == 400
    assert api.post("/processes/response/drafts", "grace", data=bpmn(RESPONSE, lanes="[1]")).status_code == 400
    assert api.get("/processes/response/drafts/999/bpmn", "grace").status_code == 404
    assert api.post("/processes/response/drafts", "grace", data=bpmn("not xml")).status_code == 400


def test_deploy_comment_shows_in_the_versions_and_the_trail(api: Api) -> None:
    resp = api.post("/processes/response/versions", "grace",
                    data=bpmn(RESPONSE.replace('name="Record and classify"', 'name="Log"'), comment="  shorter  "))
    assert resp.status_code == 201
    latest = api.get("/processes/response/versions", "grace").json[-1]
    assert (latest["version"], latest["comment"], latest["origin"]) == (2, "shorter", "api")
    trail = [json.loads(line) for line in api.get("/audit/export?format=jsonl", "heidi").get_data(
        as_text=True).splitlines()]
    deployed = [row for row in trail if row.get("type") == "process.deployed"]
    data = json.loads(deployed[-1]["data"])  # events carry their data as the stored JSON text
    assert (data["version"], data["comment"], data["origin"]) == (2, "shorter", "api")
    long = api.post("/processes/response/versions", "grace", data=bpmn(RESPONSE, comment="x" * 2001))
    assert long.status_code == 400


def test_lint_before_deploy(api: Api) -> None:
    resp = api.post("/processes/response/lint", "grace", data=bpmn(with_orphan()))
    assert resp.status_code == 200
    (orphan,) = [w for w in resp.json["warnings"] if w["element_id"] == "orphan"]
    assert "no sequence flow leads here" in orphan["message"] and orphan["kind"] == "disconnected"
    assert api.post("/processes/response/lint", "ivan", data=bpmn(RESPONSE)).status_code == 403
    assert api.post("/processes/response/lint", "grace", data={}).status_code == 400
    # the warnings come back with the deploy too, which they never block
    deployed = api.post("/processes/response/versions", "grace", data=bpmn(with_orphan()))
    assert deployed.status_code == 201 and ("orphan", "disconnected") in {
        (w["element_id"], w["kind"]) for w in deployed.json["warnings"]}


def test_rollback_is_a_new_version(api: Api) -> None:
    api.post("/processes/response/versions", "grace",
             data=bpmn(RESPONSE.replace('name="Record and classify"', 'name="Log"')))
    resp = api.post("/processes/response/versions/1/rollback", "grace", json={"comment": "v2 confused people"})
    assert resp.status_code == 201 and resp.json == {"key": "response", "version": 3, "rolled_back_to": 1}
    versions = api.get("/processes/response/versions", "grace").json
    assert versions[-1]["origin"] == "rollback" and versions[-1]["comment"] == "rollback to v1: v2 confused people"
    xml = api.get("/processes/response/versions/3/bpmn", "grace").get_data(as_text=True)
    assert 'name="Record and classify"' in xml
    started = api.post("/instances", "ivan", json={"process": "response", "data": {}})
    assert started.json["version"] == 3

    assert api.post("/processes/response/versions/3/rollback", "grace", json={}).status_code == 409
    assert api.post("/processes/response/versions/1/rollback", "grace", json={}).status_code == 409  # same content
    assert api.post("/processes/response/versions/9/rollback", "grace", json={}).status_code == 404
    assert api.post("/processes/response/versions/2/rollback", "alice", json={}).status_code == 403
    assert api.post("/processes/response/versions/2/rollback", "grace", json={"comment": 5}).status_code == 400


def test_table_rollback_keeps_its_examples(api: Api) -> None:
    dmn = (PROCESSES / "response" / "priority.dmn").read_text()
    changed = dmn.replace('<rule id="priority_r1">', '<rule id="priority_r1"><description>note</description>', 1)
    data = {"dmn": (io.BytesIO(changed.encode()), "priority.dmn"), "comment": "annotated"}
    assert api.post("/decisions/priority/versions", "grace", data=data).status_code == 201
    resp = api.post("/decisions/priority/versions/1/rollback", "grace", json={"comment": "no notes"})
    assert resp.status_code == 201 and resp.json["version"] == 3
    versions = api.get("/decisions/priority/versions", "grace").json
    assert versions[-1]["origin"] == "rollback" and versions[-1]["comment"] == "rollback to v1: no notes"
    assert api.post("/decisions/priority/versions/3/rollback", "grace", json={}).status_code == 409
