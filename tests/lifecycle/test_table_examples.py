"""A table and its examples edited together through the JSON API, as the table editor's examples panel uses it:
check examples against an edited table, preview an evaluation, deploy table and examples as one version."""

from __future__ import annotations

import io
import json
from typing import Any

from tests.lifecycle.conftest import Api
from tests.support import PROCESSES

PRIORITY = (PROCESSES / "response" / "priority.dmn").read_text()
EXAMPLES = json.loads((PROCESSES / "response" / "priority.tests.json").read_text())
# medium impact, medium urgency becomes P2 (it was P3): the shipped example 5 pins the old answer.
MEDIUM_IS_P2 = PRIORITY.replace('<outputEntry id="priority_r5_priority"><text>"P3"</text>',
                                '<outputEntry id="priority_r5_priority"><text>"P2"</text>', 1)


def example(impact: str, urgency: str, priority: str) -> dict[str, Any]:
    return {"decision": "priority", "inputs": {"impact": impact, "urgency": urgency},
            "expected": {"priority": priority}}


def upload(xml: str, examples: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"dmn": (io.BytesIO(xml.encode()), "priority.dmn"), **fields}
    if examples is not None:
        data["tests"] = (io.BytesIO(json.dumps(examples).encode()), "priority.tests.json")
    return data


def test_check_says_which_examples_fail_and_why(api: Api) -> None:
    shipped = api.post("/decisions/priority/examples/check", "grace", json={"dmn": PRIORITY, "examples": EXAMPLES})
    assert shipped.status_code == 200, shipped.json
    assert (shipped.json["passed"], shipped.json["failed"]) == (9, 0)
    assert shipped.json["examples"][0]["matched"] == ["priority_r1"]
    assert shipped.json["examples"][0]["outputs"] == {"priority": "P1"}
    columns = shipped.json["columns"]
    assert [(c["key"], c["type"], c["values"]) for c in columns["inputs"]] == [
        ("impact", "string", ["high", "medium", "low"]), ("urgency", "string", ["high", "medium", "low"])]
    assert [(c["key"], c["values"]) for c in columns["outputs"]] == [("priority", ["P1", "P2", "P3", "P4"])]

    edited = api.post("/decisions/priority/examples/check", "grace", json={"dmn": MEDIUM_IS_P2, "examples": EXAMPLES})
    assert (edited.json["passed"], edited.json["failed"]) == (8, 1)
    failing = next(e for e in edited.json["examples"] if not e["passed"])
    assert failing["number"] == 5 and failing["rule_id"] == "priority_r5"
    assert "expected priority=\"P3\", got \"P2\"" in failing["messages"][0]

    # A broken case is a failing example with its reason, not a refused request; the others are still run.
    broken = [*EXAMPLES[:1], {"decision": "priority", "inputs": {"impact": "low"}},
              {"decision": "priority", "inputs": {}, "expected": {}}, example("low", "low", "P9")]
    result = api.post("/decisions/priority/examples/check", "grace", json={"dmn": PRIORITY, "examples": broken}).json
    assert [e["passed"] for e in result["examples"]] == [True, False, False, False]
    assert "needs \"expected\"" in result["examples"][1]["messages"][0]
    assert "expects no output" in result["examples"][2]["messages"][0]
    assert "got \"P4\"" in result["examples"][3]["messages"][0]


def test_preview_evaluates_the_edited_table(api: Api) -> None:
    answer = api.post("/decisions/priority/preview", "grace",
                      json={"dmn": MEDIUM_IS_P2, "inputs": {"impact": "medium", "urgency": "medium"}})
    assert answer.status_code == 200, answer.json
    assert (answer.json["matched"], answer.json["outputs"], answer.json["error"]) == (
        ["priority_r5"], {"priority": "P2"}, None)
    assert "priority_r5" in answer.json["explanation"]
    # Nothing was deployed by looking.
    assert [v["version"] for v in api.get("/decisions/priority/versions", "grace").json] == [1]

    # Two rules hitting a UNIQUE table is the table's answer, said plainly.
    overlapping = PRIORITY.replace('<inputEntry id="priority_r2_urgency"><text>"medium"</text>',
                                   '<inputEntry id="priority_r2_urgency"><text>"medium","high"</text>', 1)
    clash = api.post("/decisions/priority/preview", "grace",
                     json={"dmn": overlapping, "inputs": {"impact": "high", "urgency": "high"}})
    assert clash.status_code == 200 and clash.json["matched"] == []
    assert {"priority_r1", "priority_r2"} <= set(clash.json["error"]["rule_ids"])


def test_bad_requests_name_the_field(api: Api) -> None:
    def check(user: str, body: Any, url: str = "/decisions/priority/examples/check") -> tuple[int, dict[str, Any]]:
        resp = api.post(url, user, json=body)
        return resp.status_code, resp.json

    assert check("alice", {"dmn": PRIORITY, "examples": []})[0] == 403
    assert api.post("/decisions/priority/examples/check", json={"dmn": PRIORITY}).status_code == 401
    status, body = check("grace", {"examples": []})
    assert status == 400 and body["error"]["details"]["fields"] == {"dmn": "missing"}
    status, body = check("grace", {"dmn": PRIORITY, "examples": {"not": "a list"}})
    assert status == 400 and "examples" in body["error"]["details"]["fields"]
    status, body = check("grace", {"dmn": PRIORITY, "examples": "[not json"})
    assert status == 400 and "not valid JSON" in body["error"]["message"]
    status, body = check("grace", {"dmn": PRIORITY, "examples": []}, "/decisions/nosuch/examples/check")
    assert status == 400 and "nosuch" in body["error"]["message"]
    status, body = check("grace", {"dmn": PRIORITY.replace("<text>\"P1\"</text>", "<text>\"P1</text>", 1)})
    assert status == 422 and body["error"]["details"]["problems"]
    hostile = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x/>'
    status, body = check("grace", {"dmn": hostile})
    assert status == 422 and "DOCTYPE" in body["error"]["details"]["problems"][0]["message"]
    status, body = check("grace", {"dmn": PRIORITY, "inputs": ["impact"]}, "/decisions/priority/preview")
    assert status == 400 and body["error"]["details"]["fields"] == {"inputs": "not an object"}
    assert api.post("/decisions/priority/preview", "grace", data="nope").status_code == 400


def test_table_and_examples_deploy_as_one_version(api: Api) -> None:
    # The edited table with the old examples is refused, naming the example and the rule.
    refused = api.post("/decisions/priority/versions", "grace", data=upload(MEDIUM_IS_P2, EXAMPLES))
    assert refused.status_code == 422
    assert any(p["rule_id"] == "priority_r5" for p in refused.json["error"]["details"]["problems"])

    edited = [*EXAMPLES[:4], example("medium", "medium", "P2"), *EXAMPLES[5:], example("low", "low", "P4")]
    deployed = api.post("/decisions/priority/versions", "grace",
                        data=upload(MEDIUM_IS_P2, edited, comment="medium/medium is P2"))
    assert deployed.status_code == 201, deployed.json
    assert deployed.json["version"] == 2
    assert json.loads(api.get("/decisions/priority/versions/2/examples", "grace").get_data(as_text=True)) == edited

    # Only the examples changed: still a new version (the pair is what is versioned); the same pair is not.
    fewer = edited[:-1]
    again = api.post("/decisions/priority/versions", "grace", data=upload(MEDIUM_IS_P2, fewer))
    assert again.json["version"] == 3
    same = api.post("/decisions/priority/versions", "grace",
                    data={"dmn": (io.BytesIO(MEDIUM_IS_P2.encode()), "priority.dmn"),
                          "tests": json.dumps(fewer, indent=4)})  # as a form field, laid out differently
    assert same.json["version"] == 3
    # Removing every example is an edit too; a later upload without examples keeps none.
    assert api.post("/decisions/priority/versions", "grace", data=upload(MEDIUM_IS_P2, [])).json["version"] == 4
    trail = api.get("/decisions/priority/versions", "grace").json
    assert [v["comment"] for v in trail][:2] == ["", "medium/medium is P2"]
