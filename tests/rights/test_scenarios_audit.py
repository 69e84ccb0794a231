"""The parts of issue 12's scenarios that test_scenarios.py does not reproduce as written, through the HTTP API
and the pages against the shipped processes: the problem team's raise_fix (1), an assess that never answered the
donor-facing question (4), a project the CAB turns down (6), a tick at triage next to a real incident (7), a
backwards window on the schedule page (8) and the UI's "Request a change" (9)."""

from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import Api
from tests.rights.conftest import complete, do, ok, record, refused, task
from tests.web.conftest import sign_in

HUGE = {"estimated_hours": 200, "users_affected": 5000, "donor_facing": True}


def _incident(api: Api, impact: str = "high", urgency: str = "high") -> str:
    key = ok(api.post("/instances", "ivan", json={"process": "response", "data": {}}), 201)["business_key"]
    do(api, "alice", key, "record", {"summary": "Donor portal down", "service": "donor-portal", "reporter": "ivan",
                                     "query_type": "incident", "impact": impact, "urgency": urgency})
    return key


def _started_from(api: Api, key: str) -> list[dict[str, Any]]:
    return [i for i in ok(api.get("/instances?limit=500", "heidi"))["instances"] if i.get("origin_key") == key]


def test_1_the_problem_team_cannot_label_its_fix_standard(shipped: Api) -> None:
    api = shipped
    inc = _incident(api)
    do(api, "alice", inc, "restore_first_line", {"resolution": "restarted", "resolved_first_line": True})
    do(api, "ivan", inc, "confirm", {"user_confirmed": True})
    do(api, "alice", inc, "assess_impact", {"material_impact": True})
    do(api, "percy", inc, "analyse_root_cause", {"root_cause": "the payment widget leaks sessions"})
    fix = {"title": "Rebuild the payment widget", "permanent_fix": "new widget", **HUGE}
    labelled = complete(api, "percy", inc, "raise_fix", {**fix, "change_class": "standard",
                                                         "approver": "implementing_team"})
    fields = refused(labelled)["details"]["fields"]
    assert set(fields) == {"change_class", "approver"} and "decided by the server" in fields["change_class"]
    assert task(api, inc, "raise_fix")  # nothing moved

    do(api, "percy", inc, "raise_fix", fix)
    (rfc,) = _started_from(api, inc)
    key = rfc["business_key"]
    assert record(api, key)["change_class"] == "normal"
    # the facts the problem team gave go on to decide: donor-facing needs the sponsor, not the implementing team
    do(api, "erin", key, "assess", {"assessment": "valid", **HUGE, "standard_model": "add_to_group"})
    do(api, "erin", key, "schedule", {"change_window_start": "2026-12-05", "change_window_end": "2026-12-06"})
    do(api, "erin", key, "prepare", {"backout_plan": "old widget", "risk_likelihood": 1, "risk_impact": 1})
    data = record(api, key)
    assert (data["change_class"], data["standard_match"], data["approver"]) == ("normal", False, "executive_sponsor")
    assert task(api, key, "approve_sponsor")


def test_4_an_assess_that_leaves_the_flag_out_never_answers_it_no(shipped: Api) -> None:
    api = shipped
    key = ok(api.post("/instances", "cora", json={"process": "change", "data": {
        "title": "Donor portal redesign", "service": "donor-portal", "description": "new look",
        "requester": "ivan"}}), 201)["business_key"]
    assert "donor_facing" not in record(api, key)  # nobody has answered it yet
    left_out = complete(api, "erin", key, "assess", {"assessment": "valid", "estimated_hours": 1,
                                                     "users_affected": 5, "critical_service": False})
    fields = refused(left_out)["details"]["fields"]
    assert fields["donor_facing"] == "is required: answer true or false"
    assert set(fields) == {"donor_facing", "critical_service"}  # the old label decides nothing: it is refused
    assert "donor_facing" not in record(api, key) and task(api, key, "assess")


def test_6_a_project_the_cab_turns_down_ends_in_triage_with_the_decision_recorded(shipped: Api) -> None:
    api = shipped
    tri = ok(api.post("/records", "ivan", json={"option": "change", "data": {
        "title": "Donor CRM replacement", "service": "donor-crm", "description": "new CRM"}}), 201)["business_key"]
    do(api, "alice", tri, "register", {"record_kind": "rfc", "summary": "Donor CRM replacement",
                                       "service": "donor-crm", "reporter": "ivan"})
    do(api, "alice", tri, "assess_rfc", {"title": "Donor CRM replacement", "estimated_hours": 80,
                                         "users_affected": 20, "donor_facing": False})
    assert record(api, tri)["change_class"] == "major"
    denied = refused(complete(api, "ivan", tri, "approve_project_cab", {"approved": True}), 403)
    assert denied["code"] in ("forbidden", "not_allowed")
    do(api, "dora", tri, "approve_project_cab", {"approved": False})
    view = ok(api.get(f"/instances/{tri}", "heidi"))
    assert view["status"] == "completed" and view["tasks"] == [] and _started_from(api, tri) == []
    flows = ok(api.get(f"/instances/{tri}/path", "heidi"))["flows"]
    assert "flow_project_cab_rejected" in flows and "flow_project_end" not in flows
    decided = [e for e in ok(api.get(f"/instances/{tri}/audit", "heidi"))["events"]
               if e["type"] == "task.completed" and e["element_id"] == "approve_project_cab"]
    assert [(e["actor"], e["data"]["form"]["approved"]) for e in decided] == [("dora", False)]


def test_7_a_tick_is_refused_an_open_p1_makes_the_emergency(shipped: Api) -> None:
    api = shipped
    assessed = {"title": "Patch the portal", "estimated_hours": 1, "users_affected": 5, "donor_facing": False}

    def registered() -> str:
        tri = ok(api.post("/records", "ivan", json={"option": "change", "data": {
            "title": "Patch the portal", "service": "donor-portal", "description": "CVE"}}), 201)["business_key"]
        do(api, "alice", tri, "register", {"record_kind": "rfc", "summary": "Patch", "service": "donor-portal",
                                           "reporter": "ivan"})
        return tri

    ticked = registered()
    error = refused(complete(api, "alice", ticked, "assess_rfc", {**assessed, "urgent_fix": True,
                                                                   "emergency": True}))
    assert set(error["details"]["fields"]) == {"urgent_fix", "emergency"}
    assert "is not a field of" in error["details"]["fields"]["urgent_fix"]
    assert _started_from(api, ticked) == [] and task(api, ticked, "assess_rfc")
    p1 = registered()
    do(api, "alice", p1, "assess_rfc", {**assessed, "incident": _incident(api)})
    (rfc,) = _started_from(api, p1)
    assert record(api, rfc["business_key"])["change_class"] == "emergency"
    assert task(api, rfc["business_key"], "implement_emergency")
    # the class the triage table gave cannot be given by a form either
    tri = ok(api.post("/records", "ivan", json={"option": "change", "data": {
        "title": "Patch", "service": "donor-portal", "description": "CVE"}}), 201)["business_key"]
    do(api, "alice", tri, "register", {"record_kind": "rfc", "summary": "Patch", "service": "donor-portal",
                                       "reporter": "ivan"})
    error = refused(complete(api, "alice", tri, "assess_rfc", {
        "title": "Patch", "estimated_hours": 1, "users_affected": 5, "donor_facing": False,
        "change_class": "emergency"}))
    assert set(error["details"]["fields"]) == {"change_class"}


def test_9_the_pages_request_a_change_goes_through_triage(shipped: Api) -> None:
    client = shipped.client
    token = sign_in(client, "ivan")
    html = client.get("/inbox").get_data(as_text=True)
    link = re.search(r'href="([^"]+)"[^>]*>\s*Request a change', html)
    assert link, "the requester's inbox offers no 'Request a change'"
    form = client.get(link.group(1))
    assert form.status_code == 200
    sent = client.post(link.group(1), data={"csrf_token": token, "title": "New VPN profile", "service": "vpn",
                                            "description": "for the field office"})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:400]
    key = sent.headers["Location"].rsplit("/", 1)[1]
    assert key.startswith("TRI-")
    view = ok(shipped.get(f"/instances/{key}", "heidi"))
    assert view["process"] == "triage" and view["data"]["record_kind"] == "rfc"
    assert [t["element_id"] for t in view["tasks"]] == ["register"]
    assert not [i for i in ok(shipped.get("/instances?limit=500", "heidi"))["instances"] if i["process"] == "change"]


def test_8_the_schedule_page_shows_a_backwards_window_on_its_field(shipped: Api) -> None:
    api = shipped
    key = ok(api.post("/instances", "cora", json={"process": "change", "data": {
        "title": "VPN firmware", "service": "vpn", "description": "9.2", "requester": "ivan"}}), 201)["business_key"]
    do(api, "erin", key, "assess", {"assessment": "valid", "estimated_hours": 2, "users_affected": 10,
                                    "donor_facing": False})
    client = api.client
    token = sign_in(client, "erin")
    page = client.post(f"/tasks/{task(api, key, 'schedule')['id']}", data={
        "csrf_token": token, "change_window_start": "2026-12-06T10:00", "change_window_end": "2026-12-05T10:00"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    at = html.index('data-field="change_window_end"')
    assert "on or after" in html[at:at + 1500]
    assert task(api, key, "schedule")  # nothing moved
