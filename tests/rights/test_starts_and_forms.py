"""Who may start what, with which fields, and what a completion keeps (issue 12, scenarios 3, 4, 8, 9, 10),
through the HTTP API and the pages as people and integrations would."""

from __future__ import annotations

from engine.db.database import Database
from tests.api.conftest import Api
from tests.bpmn_snippets import HEAD, constraint, field
from tests.rights.conftest import complete, do, ok, record, refused, task
from tests.support import deploy_xml
from tests.web.conftest import sign_in

RFC = {"title": "Upgrade the VPN concentrator", "service": "vpn", "description": "firmware 9.2"}


def _count(api: Api) -> int:
    return len(ok(api.get("/instances?limit=500", "heidi"))["instances"])


def test_unknown_and_server_decided_start_fields_are_refused_by_name(shipped: Api) -> None:
    api = shipped
    before = _count(api)
    error = refused(api.post("/instances", "carol", json={"process": "change", "data": {
        **RFC, "change_class": "emergency", "approver": "implementing_team", "urgent_fix": True,
        "risk_likelihood": 5}}))
    assert error["code"] == "validation_failed"
    fields = error["details"]["fields"]
    assert set(fields) == {"change_class", "approver", "urgent_fix", "risk_likelihood"}
    assert "decided by the server" in fields["change_class"] and "not a start field" in fields["urgent_fix"]
    # the same through a start option, and a start option's own form
    error = refused(api.post("/records", "ivan", json={"option": "change",
                                                       "data": {**RFC, "change_class": "standard"}}))
    assert set(error["details"]["fields"]) == {"change_class"}
    assert _count(api) == before  # nothing was started


def test_a_change_starts_through_triage_or_by_the_roles_its_diagram_names(shipped: Api) -> None:
    api = shipped
    denied = refused(api.post("/instances", "ivan", json={"process": "change", "data": RFC}), 403)
    assert "change_manager" in denied["message"]
    options = {o["ref"]: o for o in ok(api.get("/start-options", "ivan"))["options"]}
    assert options["change"]["process"] == "triage" and options["change"]["label"] == "Request a change"

    key = ok(api.post("/records", "ivan", json={"option": "change", "data": {
        **RFC, "estimated_hours": 2, "users_affected": 10}}), 201)["business_key"]
    assert key.startswith("TRI-")
    data = record(api, key)
    assert (data["record_kind"], data["requester"], data["title"]) == ("rfc", "ivan", RFC["title"])
    assert task(api, key, "register")["roles"] == ["service_desk"]

    # a change manager may raise one directly, for an account
    rfc = ok(api.post("/instances", "carol", json={"process": "change", "data": {**RFC, "requester": "ivan"}}), 201)
    assert rfc["business_key"].startswith("RFC-") and rfc["data"]["requester"] == "ivan"


def test_requesters_and_reporters_are_accounts(shipped: Api) -> None:
    api = shipped
    error = refused(api.post("/instances", "carol", json={"process": "change", "data": {
        **RFC, "requester": "Ivan from finance"}}))
    assert set(error["details"]["fields"]) == {"requester"} and "no user" in error["details"]["fields"]["requester"]
    tri = ok(api.post("/instances", "ivan", json={"process": "triage", "data": {}}), 201)["business_key"]
    typed = complete(api, "alice", tri, "register", {"record_kind": "incident", "summary": "Mail down",
                                                     "service": "mail", "reporter": "the CFO"})
    assert set(refused(typed)["details"]["fields"]) == {"reporter"}
    do(api, "alice", tri, "register", {"record_kind": "incident", "summary": "Mail down", "service": "mail",
                                       "reporter": "ivan"})


def test_a_window_that_ends_before_it_starts_is_refused_on_the_field(shipped: Api) -> None:
    api = shipped
    backwards = {"change_window_start": "2026-12-06", "change_window_end": "2026-12-05"}
    error = refused(api.post("/records", "ivan", json={"option": "change", "data": {**RFC, **backwards}}))
    assert set(error["details"]["fields"]) == {"change_window_end"}
    assert "on or after" in error["details"]["fields"]["change_window_end"]

    rfc = ok(api.post("/instances", "carol", json={"process": "change", "data": {**RFC, "requester": "ivan"}}),
             201)["business_key"]
    do(api, "erin", rfc, "assess", {"assessment": "valid", "estimated_hours": 2, "users_affected": 10,
                                    "donor_facing": False})
    error = refused(complete(api, "erin", rfc, "schedule", backwards))
    assert "change_window_end" in error["details"]["fields"]
    do(api, "erin", rfc, "schedule", {"change_window_start": "2026-12-05", "change_window_end": "2026-12-05"})

    # the page shows the message on the field
    client = api.client
    token = sign_in(client, "ivan")
    page = client.post("/new/change", data={"csrf_token": token, **RFC, **backwards})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    at = html.index('data-field="change_window_end"')
    assert "on or after" in html[at:at + 1500]


FLAGS = (f'{HEAD}<bpmn:process id="flags" isExecutable="true">'
         '<bpmn:startEvent id="start"><bpmn:extensionElements><camunda:formData>'
         f'{field("urgent", "boolean")}</camunda:formData></bpmn:extensionElements></bpmn:startEvent>'
         '<bpmn:userTask id="edit" camunda:candidateGroups="service_desk"><bpmn:extensionElements><camunda:formData>'
         f'{field("urgent", "boolean")}{field("note")}</camunda:formData></bpmn:extensionElements></bpmn:userTask>'
         '<bpmn:userTask id="ask" camunda:candidateGroups="service_desk"><bpmn:extensionElements><camunda:formData>'
         f'{field("agreed", "boolean")}{field("informed", "boolean", default="true")}'
         f'{field("note", constraints=constraint("required"))}</camunda:formData></bpmn:extensionElements>'
         '</bpmn:userTask><bpmn:endEvent id="end"/>'
         '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="edit"/>'
         '<bpmn:sequenceFlow id="f2" sourceRef="edit" targetRef="ask"/>'
         '<bpmn:sequenceFlow id="f3" sourceRef="ask" targetRef="end"/></bpmn:process></bpmn:definitions>')


def test_a_completion_keeps_what_it_does_not_name(shipped: Api, db: Database) -> None:
    api = shipped
    deploy_xml(db, FLAGS)
    key = ok(api.post("/instances", "ivan", json={"process": "flags", "data": {"urgent": True}}), 201)["business_key"]
    do(api, "alice", key, "edit", {"note": "first"})  # urgent left out: it stays true
    assert record(api, key)["urgent"] is True and record(api, key)["note"] == "first"
    # a yes/no question never answered before is never answered by silence; a declared default is no silence
    error = refused(complete(api, "alice", key, "ask", {}))
    assert error["details"]["fields"] == {"agreed": "is required: answer true or false", "note": "is required"}
    do(api, "alice", key, "ask", {"agreed": False, "note": "second"})
    final = record(api, key)
    assert (final["urgent"], final["agreed"], final["informed"], final["note"]) == (True, False, True, "second")


def test_an_approval_left_unanswered_is_refused_not_read_as_no(shipped: Api) -> None:
    api = shipped
    rfc = ok(api.post("/instances", "cora", json={"process": "change", "data": {**RFC, "requester": "ivan"}}),
             201)["business_key"]
    do(api, "erin", rfc, "assess", {"assessment": "valid", "estimated_hours": 2, "users_affected": 10,
                                    "donor_facing": False})
    do(api, "erin", rfc, "schedule", {"change_window_start": "2026-12-05", "change_window_end": "2026-12-06"})
    do(api, "erin", rfc, "prepare", {"backout_plan": "reflash", "risk_likelihood": 1, "risk_impact": 2})
    error = refused(complete(api, "carol", rfc, "approve_it_manager", {"approval_note": "fine"}))
    assert set(error["details"]["fields"]) == {"approved"}
    assert task(api, rfc, "approve_it_manager")  # still waiting for an answer
