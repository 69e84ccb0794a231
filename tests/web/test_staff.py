"""The staff pages through the test client: inbox tabs and order, claim / unclaim (with and without CSRF),
the generated task form (validation errors at each field, every value kept), raising records, search."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from flask.testing import FlaskClient

from engine import clock
from engine.db.database import Database
from engine.services import instances
from tests.conftest import ALICE, BOB, IVAN
from tests.support import deploy_xml
from tests.web.conftest import sign_in
from tests.web.support import INCIDENT, open_task, work


def _start(db: Database, summary: str = "Printer jams") -> str:
    return instances.start(db, IVAN, "response", {"summary": summary}).business_key


def test_inbox_tabs_and_counts(client: FlaskClient, ui_db: Database) -> None:
    first, second = _start(ui_db, "one"), _start(ui_db, "two")
    work(ui_db, ALICE, first, "record", INCIDENT)  # now waits for a resolver
    sign_in(client, "alice")
    html = client.get("/inbox").get_data(as_text=True)
    assert second in html and first not in html
    assert re.search(r'For my roles <span class="count">1</span>', html)
    sign_in(client, "bob")
    html = client.get("/inbox").get_data(as_text=True)
    assert first in html and second not in html
    assert "P2" in html  # the priority the table set
    html = client.get("/inbox?tab=mine").get_data(as_text=True)
    assert "You hold no tasks" in html
    assert client.get("/inbox?tab=all").status_code == 403
    assert client.get("/inbox?tab=nonsense").status_code == 400


def test_inbox_puts_overdue_first_then_priority(client: FlaskClient, ui_db: Database) -> None:
    low = _start(ui_db, "low")
    work(ui_db, ALICE, low, "record", {**INCIDENT, "impact": "low", "urgency": "low"})
    high = _start(ui_db, "high")
    work(ui_db, ALICE, high, "record", {**INCIDENT, "impact": "high", "urgency": "high"})
    with time_machine.travel(clock.now() - timedelta(hours=3), tick=False):
        late = instances.start(ui_db, IVAN, "long_form", {}).business_key  # due two hours after: overdue
    soon = instances.start(ui_db, IVAN, "long_form", {}).business_key
    sign_in(client, "admin")
    html = client.get("/inbox?tab=all").get_data(as_text=True)
    order = re.findall(r'data-business-key="([A-Z]+-\d+)"', html)
    assert order[0] == late
    assert order.index(high) < order.index(low)
    assert 'class="badge sla sla-overdue"' in html and "Overdue" in html
    row = html.split(f'data-business-key="{soon}"', 1)[1].split("</tr>", 1)[0]
    assert "sla-ok" in row and re.search(r"Due in (1h 59m|2h 00m)", row)


def test_inbox_filter_by_text(client: FlaskClient, ui_db: Database) -> None:
    a, b = _start(ui_db, "VPN is down"), _start(ui_db, "Printer jams")
    sign_in(client, "alice")
    html = client.get("/inbox?q=vpn").get_data(as_text=True)
    assert a in html and b not in html


def test_claim_and_unclaim(client: FlaskClient, ui_db: Database) -> None:
    key = _start(ui_db)
    task = open_task(ui_db, key, "record")["id"]
    token = sign_in(client, "alice")
    assert client.post(f"/tasks/{task}/claim").status_code == 403  # no CSRF token
    assert open_task(ui_db, key, "record")["assignee"] is None
    response = client.post(f"/tasks/{task}/claim", data={"csrf_token": token, "next": "/inbox?tab=mine"})
    assert response.status_code == 302 and response.headers["Location"] == "/inbox?tab=mine"
    assert open_task(ui_db, key, "record")["assignee"] == "alice"
    assert "Unclaim" in client.get(f"/tasks/{task}").get_data(as_text=True)

    admin_token = sign_in(client, "admin")  # someone else holds it: a message, not an error page
    response = client.post(f"/tasks/{task}/claim", data={"csrf_token": admin_token}, follow_redirects=True)
    assert "held by alice" in response.get_data(as_text=True)
    bob_token = sign_in(client, "bob")
    assert client.post(f"/tasks/{task}/claim", data={"csrf_token": bob_token}).status_code == 403  # not his role

    token = sign_in(client, "alice")
    response = client.post(f"/tasks/{task}/unclaim", data={"csrf_token": token})
    assert response.status_code == 302
    assert open_task(ui_db, key, "record")["assignee"] is None


def test_next_after_claim_must_be_local(client: FlaskClient, ui_db: Database) -> None:
    key = _start(ui_db)
    task = open_task(ui_db, key, "record")["id"]
    token = sign_in(client, "alice")
    response = client.post(f"/tasks/{task}/claim", data={"csrf_token": token, "next": "https://evil.example/"})
    assert response.headers["Location"] == f"/tasks/{task}"


def test_task_form_is_generated_from_the_form_fields(client: FlaskClient, ui_db: Database) -> None:
    key = instances.start(ui_db, IVAN, "long_form", {}).business_key
    sign_in(client, "alice")
    html = client.get(f"/tasks/{open_task(ui_db, key, 'fill')['id']}").get_data(as_text=True)
    assert 'id="f-title" name="title" required aria-required="true"' in html
    assert 'maxlength="100"' in html
    assert '<textarea id="f-description" name="description"' in html
    assert 'id="f-hours" name="hours" required aria-required="true" type="text" inputmode="numeric"' in html
    assert '<span class="hint">0 to 1000</span>' in html
    assert 'type="radio" name="urgent" value="true"' in html
    assert 'id="f-due_on" name="due_on" required aria-required="true" type="date"' in html
    assert '<option value="">— choose —</option>' in html.split('id="f-category"')[1].split("</select>")[0]
    assert '<option value="phone" selected>Phone</option>' in html
    assert 'id="f-seats" name="seats"' in html and 'value="1"' in html.split('id="f-seats"')[1][:200]
    assert '<p class="readonly-value" id="f-reference"' in html and "REF-1" in html
    assert 'name="reference"' not in html  # read-only: shown, never sent
    assert "Every field type the engine supports." in html  # the instructions property


def test_validation_errors_keep_every_value(client: FlaskClient, ui_db: Database) -> None:
    key = instances.start(ui_db, IVAN, "long_form", {}).business_key
    task = open_task(ui_db, key, "fill")["id"]
    token = sign_in(client, "alice")
    sent = {"csrf_token": token, "title": "Switch <b>dead</b> & \"gone\"", "description": "line one\nline two",
            "hours": "lots", "urgent": "false", "due_on": "2026-13-45", "category": "", "channel": "mail",
            "contact": "Al", "seats": "0"}
    response = client.post(f"/tasks/{task}", data=sent)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = dict(re.findall(r'<p class="field-error" id="f-(\w+)-error"><span class="visually-hidden">Error:</span>'
                             r" ([^<]+)</p>", html))
    assert errors == {"hours": "Hours must be a whole number", "due_on": "Due on must be a date like 2026-01-31",
                      "category": "Category is required", "contact": "Contact must be at least 3 characters",
                      "seats": "Seats must be at least 1"}
    assert html.count('aria-invalid="true"') == 5
    assert "5 fields to fix" in html
    assert 'value="Switch &lt;b&gt;dead&lt;/b&gt; &amp; &#34;gone&#34;"' in html  # kept, and escaped
    assert ">line one\nline two</textarea>" in html
    assert 'value="lots"' in html and 'value="2026-13-45"' in html and 'value="Al"' in html
    assert 'value="0"' in html.split('id="f-seats"')[1][:300]
    assert 'value="false" checked' in html
    assert '<option value="mail" selected>Mail</option>' in html
    assert "autofocus" in html.split('id="f-hours"')[1][:300]  # the first problem has the focus
    assert open_task(ui_db, key, "fill")  # nothing was completed


def test_completing_goes_on_to_my_next_task(client: FlaskClient, ui_db: Database) -> None:
    key = instances.start(ui_db, ALICE, "response", {}).business_key
    work(ui_db, ALICE, key, "record", INCIDENT)
    work(ui_db, BOB, key, "restore", {"resolution": "done"})
    confirm = open_task(ui_db, key, "confirm")["id"]
    token = sign_in(client, "alice")
    response = client.post(f"/tasks/{confirm}", data={"csrf_token": token, "user_confirmed": "true"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/tasks/{open_task(ui_db, key, 'close')['id']}"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Done: {key} is running." in html


def test_completing_without_csrf_is_refused(client: FlaskClient, ui_db: Database) -> None:
    key = _start(ui_db)
    task = open_task(ui_db, key, "record")["id"]
    sign_in(client, "alice")
    assert client.post(f"/tasks/{task}", data={**INCIDENT}).status_code == 403
    assert open_task(ui_db, key, "record")


def test_a_task_completed_meanwhile_is_a_message(client: FlaskClient, ui_db: Database) -> None:
    key = _start(ui_db)
    task = open_task(ui_db, key, "record")["id"]
    token = sign_in(client, "alice")
    work(ui_db, ALICE, key, "record", INCIDENT)  # a colleague was faster
    response = client.post(f"/tasks/{task}", data={"csrf_token": token, **INCIDENT}, follow_redirects=True)
    assert response.request.path == "/inbox"
    assert "no longer ready" in response.get_data(as_text=True)


def test_someone_else_s_task_is_read_only(client: FlaskClient, ui_db: Database) -> None:
    key = _start(ui_db)
    task = open_task(ui_db, key, "record")["id"]
    sign_in(client, "heidi")
    html = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "You can see this task, but it is for service_desk." in html
    assert "Complete task" not in html
    assert 'id="f-summary" name="summary" required aria-required="true" disabled' in html


def test_raise_an_incident(client: FlaskClient, ui_db: Database) -> None:
    token = sign_in(client, "alice")
    form = client.get("/new/incident").get_data(as_text=True)
    assert '<option value="medium" selected>Medium</option>' in form
    refused = client.post("/new/incident", data={"csrf_token": token, "summary": "", "service": "mail",
                                                  "description": "all of it", "impact": "high", "urgency": ""})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Summary is required" in html and "Urgency is required" in html
    assert 'value="mail"' in html and ">all of it</textarea>" in html
    assert '<option value="high" selected>High</option>' in html
    response = client.post("/new/incident", data={"csrf_token": token, "summary": "Mail down", "service": "mail",
                                                   "impact": "high", "urgency": "high"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/tasks/")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Record and classify" in html and 'value="Mail down"' in html  # prefilled from the record
    assert re.search(r"INC-\d{6} raised \(response v1\)", html)


def test_a_requester_raising_lands_on_the_record(client: FlaskClient, ui_db: Database) -> None:
    token = sign_in(client, "ivan")
    response = client.post("/new/request", data={"csrf_token": token, "summary": "Need Visio", "service": "apps",
                                                  "impact": "low", "urgency": "low"})
    assert response.status_code == 302
    key = response.headers["Location"].rsplit("/", 1)[1]
    assert key.startswith("REQ-")
    html = client.get(f"/records/{key}").get_data(as_text=True)
    assert "Need Visio" in html and "reporter" in html


def test_raise_without_csrf_is_refused(client: FlaskClient) -> None:
    sign_in(client, "alice")
    assert client.post("/new/incident", data={"summary": "x", "service": "y"}).status_code == 403


def test_no_change_process_means_no_change_form(client: FlaskClient) -> None:
    sign_in(client, "alice")
    response = client.get("/new/change")
    assert response.status_code == 404
    assert "No process for a new change is deployed yet" in response.get_data(as_text=True)
    assert "Request a change" not in client.get("/inbox").get_data(as_text=True)
    assert client.get("/new/problem").status_code == 404


TRIAGE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="triage" name="Triage" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Service desk"><bpmn:flowNodeRef>s</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>register</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="register" name="Register">
      <bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="e"><bpmn:incoming>b</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="register"/>
    <bpmn:sequenceFlow id="b" sourceRef="register" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_triage_takes_new_records_when_deployed(client: FlaskClient, ui_db: Database) -> None:
    deploy_xml(ui_db, TRIAGE)
    token = sign_in(client, "ivan")
    response = client.post("/new/question", data={"csrf_token": token, "summary": "What is the VPN address?",
                                                   "service": "vpn", "impact": "low", "urgency": "low"})
    key = response.headers["Location"].rsplit("/", 1)[1]
    assert key.startswith("TRI-")
    html = client.get(f"/records/{key}").get_data(as_text=True)
    assert "triage v1" in html and "record_kind" in html and "information" in html


def test_search_by_key_and_text(client: FlaskClient, ui_db: Database) -> None:
    vpn, printer = _start(ui_db, "VPN is down"), _start(ui_db, "Printer jams")
    sign_in(client, "alice")
    response = client.get(f"/records?q={vpn.lower()}")
    assert response.status_code == 302 and response.headers["Location"] == f"/records/{vpn}"
    html = client.get("/records?q=printer").get_data(as_text=True)
    assert printer in html and vpn not in html
    html = client.get("/records?status=completed").get_data(as_text=True)
    assert "No records match" in html
    assert client.get("/records?status=bogus").status_code == 400
    assert client.get("/records?from=yesterday").status_code == 400


def test_record_page(client: FlaskClient, ui_db: Database) -> None:
    key = _start(ui_db, "VPN is down")
    work(ui_db, ALICE, key, "record", INCIDENT)
    sign_in(client, "bob")
    html = client.get(f"/records/{key}").get_data(as_text=True)
    assert "Restore service" in html and "Claim" in html
    assert 'data-path-url="/api/v1/instances/' in html and 'data-bpmn-url="/api/v1/processes/response/' in html
    assert "rule priority_r2 of priority v1 matched" in html
    assert "Cancel" not in html  # bob does not cancel records


def test_cancel_a_record(client: FlaskClient, ui_db: Database) -> None:
    key = _start(ui_db)
    token = sign_in(client, "carol")
    assert "Cancel " + key in client.get(f"/records/{key}").get_data(as_text=True)
    response = client.post(f"/records/{key}/cancel", data={"csrf_token": token, "reason": ""},
                           follow_redirects=True)
    assert "a reason is required" in response.get_data(as_text=True)
    client.post(f"/records/{key}/cancel", data={"csrf_token": token, "reason": "duplicate"})
    html = client.get(f"/records/{key}").get_data(as_text=True)
    assert "status-cancelled" in html and "Cancelled: duplicate" in html
    alice_token = sign_in(client, "alice")
    assert client.post(f"/records/{key}/cancel", data={"csrf_token": alice_token, "reason": "x"}).status_code == 403
