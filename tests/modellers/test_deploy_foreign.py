"""Diagrams as Camunda 7, bpmn.io and SpiffWorkflow write them deploy and start through the HTTP API; what
itsmflow cannot run is refused naming the element, its line and what to change, never with a 500 or a repr."""

from __future__ import annotations

import re

from tests.api.conftest import Api
from tests.modellers.conftest import FIXTURES, deployed, refused, upload

REPR = re.compile(r"0x[0-9a-f]{6,}|<Element|b'|b\"|Traceback|TypeError")


def _start(api: Api, key: str, data: dict | None = None) -> dict:
    resp = api.post("/instances", "alice", json={"process": key, "data": data or {}})
    assert resp.status_code == 201, resp.json
    return resp.json


def test_camunda_service_task_and_roleless_task_deploy(api: Api) -> None:
    body = deployed(api, "c7_payment", "camunda7_payment.bpmn")
    assert body["version"] == 1
    warned = [w for w in body["warnings"] if w["kind"] == "task_default_role"]
    assert [w["element_id"] for w in warned] == ["ApproveRefund"] and warned[0]["line"] == 11
    assert "service_desk" in warned[0]["message"]
    inst = _start(api, "c7_payment")
    assert inst["status"] == "waiting" and inst["tasks"] == []  # at the external task, no inbox work


def test_owner_picks_the_role_for_roleless_tasks_and_unmapped_lanes(api: Api) -> None:
    body = deployed(api, "bpmnio_order", "bpmnio_lanes.bpmn", lanes={"Warehouse robot": "implementer"},
                    default_role="resolver")
    kinds = {w["kind"] for w in body["warnings"]}
    assert {"lane_default_role", "flow_without_id"} <= kinds
    lane = [w for w in body["warnings"] if w["kind"] == "lane_default_role"][0]
    assert lane["lane"] == "Clerk" and lane["elements"] == ["Task_Pack"]
    flow = [w for w in body["warnings"] if w["kind"] == "flow_without_id"][0]
    assert flow["element_id"] == "Flow_Task_Pack_to_Task_Ship" and flow["line"] == 22
    inst = _start(api, "bpmnio_order")
    assert [t["roles"] for t in inst["tasks"]] == [["resolver"]]
    task = inst["tasks"][0]
    assert api.post(f"/tasks/{task['id']}/claim", "bob").status_code == 200
    done = api.post(f"/tasks/{task['id']}/complete", "bob", json={"data": {}})
    assert done.status_code == 200
    # The flow without an id was kept: the record went on to the service task, not straight to the end.
    assert done.json["instance"]["status"] == "waiting"
    path = api.get(f"/instances/{inst['id']}/path", "heidi").json
    assert path["completed"] == ["StartEvent_1", "Task_Pack"]


def test_default_role_must_be_a_role(api: Api) -> None:
    problems = refused(api, "bpmnio_order", "bpmnio_lanes.bpmn", default_role="nobody")
    assert problems[0]["field"] == "default_role" and "not a role" in problems[0]["message"]


def test_spiffworkflow_service_operator_and_manual_task(api: Api) -> None:
    deployed(api, "spiff_lookup", "spiff_service.bpmn")
    inst = _start(api, "spiff_lookup")
    assert inst["status"] == "waiting" and inst["data"]["customer_id"] == 42


def test_multi_instance_and_message_definitions_deploy_and_run(api: Api) -> None:
    deployed(api, "c7_reviews", "camunda7_multi_instance.bpmn")
    inst = _start(api, "c7_reviews", {"reviewers": ["bob", "carol"]})
    assert [t["element_id"] for t in inst["tasks"]] == ["review", "review"]
    for task in inst["tasks"]:
        api.post(f"/tasks/{task['id']}/claim", "bob")
        assert api.post(f"/tasks/{task['id']}/complete", "bob", json={"data": {}}).status_code == 200
    deployed(api, "c7_messages", "camunda7_messages.bpmn")
    inst = _start(api, "c7_messages")
    assert inst["status"] == "waiting"
    sent = [e["data"]["name"] for e in api.get(f"/instances/{inst['id']}/audit", "heidi").json["events"]
            if e["type"] == "message.sent"]
    assert sent == ["c7.announced", "c7.ping"]


def test_java_delegates_are_refused_with_the_external_task_form(api: Api) -> None:
    problems = refused(api, "c7_java", "refuse_java_delegate.bpmn")
    by_id = {p["element_id"]: p for p in problems}
    assert set(by_id) == {"archive", "mail"}
    assert by_id["archive"]["line"] == 5 and 'camunda:type="external"' in by_id["archive"]["message"]
    assert "camunda:delegateExpression" in by_id["mail"]["message"]


def test_nameless_message_throw_is_refused(api: Api) -> None:
    problems = refused(api, "nameless", "refuse_nameless_throw.bpmn")
    assert [(p["element_id"], p["line"]) for p in problems] == [("shout", 5)]
    assert "without a name" in problems[0]["message"]


def test_engine_refusals_name_the_element_without_reprs(api: Api) -> None:
    problems = refused(api, "odd_boundary", "refuse_unsupported_boundary.bpmn")
    assert problems[0]["element_id"] == "odd" and problems[0]["line"] == 6
    assert not REPR.search(problems[0]["message"]), problems[0]["message"]


def test_no_upload_gets_a_500(api: Api) -> None:
    """Every fixture, truncated at many points and with its ids removed, answers 201 or 4xx."""
    for path in sorted(FIXTURES.glob("*.bpmn")):
        data = path.read_bytes()
        variants = [data[:n] for n in range(0, len(data), max(1, len(data) // 7))]
        variants.append(re.sub(rb' id="[^"]*"', b"", data))
        variants.append(data.replace(b'isExecutable="true"', b'isExecutable="false"'))
        for variant in variants:
            resp = upload(api, path.stem, variant)
            assert resp.status_code < 500, (path.name, resp.json)
            if resp.status_code >= 400:
                for problem in resp.json["error"]["details"].get("problems", []):
                    assert not REPR.search(problem["message"]), (path.name, problem["message"])


def test_a_latin1_file_deploys_and_keeps_its_names(api: Api) -> None:
    xml = (FIXTURES / "bpmnio_lanes.bpmn").read_text().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    xml = xml.replace('name="Pack the goods"', 'name="Emballer les marchandises à expédier"')
    body = deployed(api, "bpmnio_order", xml.encode("latin-1"))
    assert body["version"] == 1
    inst = _start(api, "bpmnio_order")
    assert inst["tasks"][0]["name"] == "Emballer les marchandises à expédier"
    resp = upload(api, "bpmnio_order", b"\xff\xfe\x00garbage")
    assert resp.status_code == 422
