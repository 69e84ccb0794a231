"""Problems, known errors and articles through the HTTP API, on SQLite (FTS5) and PostgreSQL (tsvector/GIN):
first-line restoration proposes the known error of a repeated incident; using it goes into the record's trail."""

from __future__ import annotations

from typing import Any

from engine.services import users
from tests.api.conftest import Api
from tests.support import deploy_xml

MAIL = {"summary": "Mail does not arrive in the Lagos office", "description": "Since 8:00 no mail arrives",
        "service": "mail", "reporter": "ivan", "query_type": "incident", "impact": "medium", "urgency": "medium"}

# A stand-in for a change record: the problem's closure reads the fields the fix RFC's process declares
# (implemented_field, release_field).
FIX_RFC = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="fx" targetNamespace="http://test">
  <bpmn:process id="fixstub" name="Fix (test stand-in)" isExecutable="true">
    <bpmn:extensionElements><camunda:properties>
      <camunda:property name="record_kind" value="change"/><camunda:property name="key_prefix" value="RFC"/>
      <camunda:property name="requester_field" value="requester"/><camunda:property name="team" value="change_manager"/>
      <camunda:property name="implemented_field" value="implemented"/>
      <camunda:property name="release_field" value="release"/>
    </camunda:properties></bpmn:extensionElements>
    <bpmn:startEvent id="s"><bpmn:extensionElements><camunda:formData>
        <camunda:formField id="implemented" label="Implemented" type="boolean"/>
        <camunda:formField id="release" label="Release" type="string"/>
      </camunda:formData></bpmn:extensionElements><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="t" name="Wait" camunda:candidateGroups="change_manager">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/><bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.data[:400])
    return resp.json


def _error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.data[:400])
    return resp.json["error"]


def _incident(api: Api, data: dict[str, Any] = MAIL) -> tuple[str, str]:
    """Raised by ivan, recorded by alice: the business key and the open first-line task."""
    inst = _ok(api.post("/instances", "ivan", json={"process": "response", "data": {}}), 201)
    record = inst["tasks"][0]["id"]
    done = _ok(api.post(f"/tasks/{record}/complete", "alice", json={"data": data}))
    return inst["business_key"], done["next_tasks"][0]["id"]


def _people(api: Api) -> None:
    users.add_user(api.db, "pat", "demo", ["problem_team"])
    users.add_user(api.db, "sam", "demo", ["service_desk"])


def test_first_line_proposes_the_known_error_of_a_repeated_incident(api: Api) -> None:
    _people(api)
    first, first_task = _incident(api)
    before = _ok(api.get(f"/tasks/{first_task}", "alice"))
    assert before["knowledge"]["suggestions"] == []  # nothing known yet
    assert "mail" in before["knowledge"]["query"].lower()
    problem = _ok(api.post("/problems", "pat", json={"title": "Lagos mail relay drops messages",
                                                     "service": "mail", "incidents": [first]}), 201)
    assert problem["status"] == "open" and problem["incidents"] == [first]
    linked = [e for e in _ok(api.get(f"/instances/{first}/audit", "heidi"))["events"] if e["type"] == "problem.linked"]
    assert linked and linked[0]["data"]["problem"] == problem["key"]
    known = _ok(api.put(f"/problems/{problem['key']}/known-error", "pat", json={
        "symptom": "Mail does not arrive at the Lagos office", "workaround": "Restart the Lagos relay service",
        "root_cause": "The relay's queue fills when the disk is full"}))
    ke = known["known_error"]
    assert known["status"] == "known_error" and ke["key"].startswith("KE-") and ke["status"] == "open"

    second, task = _incident(api, {**MAIL, "summary": "No mail arriving in Lagos", "description": "users wait"})
    shown = _ok(api.get(f"/tasks/{task}", "alice"))
    suggested = shown["knowledge"]["suggestions"]
    assert [s["key"] for s in suggested] == [ke["key"]]
    assert suggested[0]["workaround"] == "Restart the Lagos relay service" and suggested[0]["used_here"] is False
    assert shown["knowledge"]["kinds"] == ["known_errors", "articles"]

    # An unrelated incident is offered nothing.
    _, other = _incident(api, {**MAIL, "summary": "Printer jammed on floor two", "description": "paper stuck",
                                "service": "printing"})
    assert _ok(api.get(f"/tasks/{other}", "alice"))["knowledge"]["suggestions"] == []

    _error(api.post(f"/tasks/{task}/knowledge", "bob", json={"key": ke["key"]}), 403)  # not bob's task
    _error(api.post(f"/tasks/{task}/knowledge", "alice", json={"key": "KE-999999"}), 422)
    _error(api.post(f"/tasks/{task}/knowledge", "alice", json={"key": ke["key"], "helped": "yes"}), 422)
    used = _ok(api.post(f"/tasks/{task}/knowledge", "alice", json={"key": ke["key"], "helped": True}), 201)
    assert used == {"item": ke["key"], "record": second, "helped": True, "used_count": 1, "helped_count": 1}
    _error(api.post(f"/tasks/{task}/knowledge", "alice", json={"key": ke["key"]}), 409)  # a second click
    assert _ok(api.get(f"/tasks/{task}", "alice"))["knowledge"]["suggestions"][0]["used_here"] is True
    trail = _ok(api.get(f"/instances/{second}/audit", "heidi"))["events"]
    use = [e for e in trail if e["type"] == "knowledge.used"]
    assert len(use) == 1 and use[0]["element_id"] == "restore_first_line" and use[0]["data"]["item"] == ke["key"]
    _ok(api.post(f"/tasks/{task}/complete", "alice", json={"data": {"resolution": "Relay restarted (KE)",
                                                                   "resolved_first_line": True}}))
    again = _ok(api.get(f"/problems/{problem['key']}", "pat"))
    assert again["known_error"]["helped_count"] == 1
    assert again["incidents"] == [first, second]  # the known error helped: the problem explains this one too
    assert _ok(api.get("/audit/verify", "heidi"))["ok"] is True


def test_articles_are_written_reviewed_and_published_by_the_service_desk(api: Api) -> None:
    _people(api)
    body = {"title": "How to reset your VPN token", "body": "Open the self-service portal and choose Reset token.",
            "service": "vpn"}
    _error(api.post("/articles", "ivan", json=body), 403)
    bad = _error(api.post("/articles", "alice", json={"title": "", "body": 3, "colour": "red"}), 422)
    assert set(bad["details"]["fields"]) == {"title", "body", "colour"}
    draft = _ok(api.post("/articles", "alice", json=body), 201)
    key = draft["key"]
    assert draft["status"] == "draft" and key.startswith("KB-")
    _error(api.get(f"/articles/{key}", "ivan"), 404)  # a draft is not there for requesters
    assert _ok(api.get("/knowledge/search?q=VPN token", "alice"))["results"] == []  # drafts are not found
    _error(api.post(f"/articles/{key}/publish", "sam"), 409)  # not reviewed yet
    _error(api.post(f"/articles/{key}/review", "alice"), 403)  # not one's own
    _error(api.post(f"/articles/{key}/review", "bob"), 403)  # not the service desk
    assert _ok(api.post(f"/articles/{key}/review", "sam"))["reviewer"] == "sam"
    published = _ok(api.post(f"/articles/{key}/publish", "sam"))
    assert published["status"] == "published" and published["publisher"] == "sam"
    found = _ok(api.get("/knowledge/search?q=vpn tokens", "ivan"))["results"]  # stemmed: tokens ~ token
    assert [r["key"] for r in found] == [key] and found[0]["kind"] == "article"
    assert _ok(api.get("/knowledge/search?q=vpn printer", "ivan"))["results"] == []  # every word must match
    assert [r["key"] for r in _ok(api.get("/knowledge/search?q=vpn printer&any=1", "ivan"))["results"]] == [key]
    assert [a["key"] for a in _ok(api.get("/articles", "ivan"))["articles"]] == [key]

    # An information request shows it; using it counts on the article.
    inst = _ok(api.post("/instances", "ivan", json={"process": "response", "data": {}}), 201)
    question = {**MAIL, "summary": "My VPN token stopped working", "description": "how do I reset it?",
                "service": "vpn", "query_type": "information"}
    task = _ok(api.post(f"/tasks/{inst['tasks'][0]['id']}/complete", "alice",
                        json={"data": question}))["next_tasks"][0]
    assert task["element_id"] == "provide_information"
    shown = _ok(api.get(f"/tasks/{task['id']}", "alice"))["knowledge"]
    assert [s["key"] for s in shown["suggestions"]] == [key]
    _ok(api.post(f"/tasks/{task['id']}/knowledge", "alice", json={"key": key, "helped": True}), 201)
    assert _ok(api.get(f"/articles/{key}", "ivan"))["helped_count"] == 1

    edited = _ok(api.patch(f"/articles/{key}", "alice", json={"body": "Use the portal: Security > Reset token."}))
    assert edited["status"] == "draft" and edited["helped_count"] == 1
    assert _ok(api.get("/knowledge/search?q=vpn", "ivan"))["results"] == []  # out until published again
    _ok(api.post(f"/articles/{key}/retire", "sam"))
    _error(api.post(f"/articles/{key}/retire", "sam"), 409)


def test_closing_a_problem_after_its_fix_release_updates_the_known_error(api: Api) -> None:
    _people(api)
    deploy_xml(api.db, FIX_RFC)
    incident, _ = _incident(api)
    key = _ok(api.post("/problems", "pat", json={"title": "Relay disk fills", "incidents": [incident]}), 201)["key"]
    _error(api.post(f"/problems/{key}/close", "pat", json={}), 409)  # no known error yet
    _ok(api.put(f"/problems/{key}/known-error", "pat", json={"symptom": "Mail stops", "workaround": "restart"}))
    _error(api.post(f"/problems/{key}/close", "pat", json={}), 409)  # no fix RFC
    bad = _error(api.put(f"/problems/{key}/known-error", "pat", json={"fix_rfc": "RFC-424242"}), 422)
    assert "fix_rfc" in bad["details"]["fields"]
    pending = _ok(api.post("/instances", "carol", json={"process": "fixstub", "data": {"implemented": False}}), 201)
    _ok(api.put(f"/problems/{key}/known-error", "pat", json={"fix_rfc": pending["business_key"]}))
    refused = _error(api.post(f"/problems/{key}/close", "pat", json={}), 409)
    assert pending["business_key"] in refused["message"]
    done = _ok(api.post("/instances", "carol", json={"process": "fixstub",
                                                     "data": {"implemented": True, "release": "REL-000007"}}), 201)
    _ok(api.put(f"/problems/{key}/known-error", "pat", json={"fix_rfc": done["business_key"]}))
    closed = _ok(api.post(f"/problems/{key}/close", "pat", json={"note": "fixed by the disk alarm"}))
    assert closed["status"] == "closed" and closed["closure_note"] == "fixed by the disk alarm"
    ke = closed["known_error"]
    assert ke["status"] == "fixed" and ke["fixed_in_release"] == "REL-000007" and ke["fix_rfc"] == done["business_key"]
    _error(api.put(f"/problems/{key}/known-error", "pat", json={"workaround": "x"}), 409)
    _error(api.post(f"/problems/{key}/close", "pat", json={}), 409)
    # Still found (a recurrence means the fix did not hold), and shown as fixed.
    hits = _ok(api.get("/knowledge/search?q=mail stops", "alice"))["results"]
    assert [(h["key"], h["status"]) for h in hits] == [(ke["key"], "fixed")]
    assert [p["key"] for p in _ok(api.get("/problems?status=closed", "alice"))["problems"]] == [key]


def test_bad_knowledge_requests_get_named_errors(api: Api) -> None:
    _people(api)
    _error(api.post("/problems", "ivan", json={"title": "x"}), 403)
    _error(api.get("/problems", "ivan"), 403)
    assert "title" in _error(api.post("/problems", "pat", json={"title": " "}), 422)["details"]["fields"]
    assert "incidents" in _error(api.post("/problems", "pat", json={"title": "t", "incidents": "INC-1"}),
                                 422)["details"]["fields"]
    assert "incidents" in _error(api.post("/problems", "pat", json={"title": "t", "incidents": ["INC-999999"]}),
                                 422)["details"]["fields"]
    assert _ok(api.get("/problems", "pat"))["problems"] == []  # nothing was stored
    _error(api.post("/problems", "pat", data="[", content_type="application/json"), 400)
    _error(api.get("/problems/PRB-999999", "pat"), 404)
    assert "status" in _error(api.get("/problems?status=odd", "pat"), 422)["details"]["fields"]
    assert "kind" in _error(api.get("/knowledge/search?q=x&kind=bogus", "alice"), 422)["details"]["fields"]
    key = _ok(api.post("/problems", "pat", json={"title": "t"}), 201)["key"]
    assert "symptom" in _error(api.put(f"/problems/{key}/known-error", "pat", json={"workaround": "w"}),
                               422)["details"]["fields"]
    _ok(api.put(f"/problems/{key}/known-error", "pat", json={"symptom": 'quote " star * (paren NEAR'}))
    for q in ['"unbalanced', "a* OR (", "NOT", ":*&|!", "x" * 999, "é日本"]:
        assert _ok(api.get("/knowledge/search", "alice", query_string={"q": q}))["query"] == q
    assert [r["key"] for r in _ok(api.get("/knowledge/search", "alice",
                                          query_string={"q": 'paren "star'}))["results"]] != []
    _error(api.get("/knowledge/search", "alice", query_string={"q": "x" * 1001}), 422)
    _error(api.post("/tasks/nope/knowledge", "alice", json={"key": "KB-000001"}), 404)
