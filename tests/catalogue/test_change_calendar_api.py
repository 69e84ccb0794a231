"""The change calendar, its conflicts, blackouts and a change's impact view, through the HTTP API: changes
raised and worked as people do, up to the approval task that shows what they touch."""

from __future__ import annotations

from typing import Any

from icalendar import Calendar

from tests.catalogue.conftest import CatalogueApi as Api
from tests.catalogue.conftest import error, trail

CIS = [
    {"id": "mail-server", "name": "Mail server", "type": "server", "owner_role": "resolver", "services": ["email"]},
    {"id": "crm-db", "name": "CRM database", "type": "database", "owner_role": "resolver", "services": ["donor-crm"]},
    {"id": "crm-app", "name": "CRM application", "type": "application", "owner_user": "bob",
     "services": ["donor-crm"], "depends_on": ["crm-db"]},
]
WEEK = "from=2026-11-30T00:00:00Z&to=2026-12-07T00:00:00Z"


def _task(api: Api, key: str, element_id: str) -> dict[str, Any]:
    found = [t for t in api.get(f"/instances/{key}", "heidi").json["tasks"] if t["element_id"] == element_id]
    assert found, api.get(f"/instances/{key}", "heidi").json["tasks"]
    return found[0]


def _do(api: Api, key: str, element_id: str, user: str, data: dict[str, Any]) -> None:
    task = _task(api, key, element_id)
    assert api.post(f"/tasks/{task['id']}/claim", user).status_code == 200
    done = api.post(f"/tasks/{task['id']}/complete", user, json={"data": data})
    assert done.status_code == 200, done.json


def raise_change(api: Api, title: str, service: str, cis: str, start: str, end: str) -> str:
    """An RFC worked up to its approval: 4 hours on a tier-2 service goes to the CAB."""
    started = api.post("/instances", "cora", json={"process": "change", "data": {"requester": "ivan",
        "title": title, "description": "planned work", "service": service, "affected_cis": cis}})
    assert started.status_code == 201, started.json
    key = started.json["business_key"]
    _do(api, key, "assess", "erin", {"assessment": "valid", "estimated_hours": 4, "users_affected": 60,
                                     "affected_cis": cis})
    _do(api, key, "schedule", "erin", {"change_window_start": start, "change_window_end": end})
    _do(api, key, "prepare", "erin", {"backout_plan": "restore the snapshot", "risk_likelihood": 1,
                                      "risk_impact": 2})
    return key


def setup(api: Api) -> None:
    for body in CIS:
        assert api.post("/cis", "grace", json=body).status_code == 201


def test_two_changes_on_one_ci_with_overlapping_windows_are_both_flagged_to_the_cab(cat_api: Api) -> None:
    api = cat_api
    setup(api)
    # Different services, one shared CI; both inside e-mail's maintenance window (Sat 22:00 - Sun 06:00).
    first = raise_change(api, "Patch the mail server", "email", "mail-server", "2026-12-05T22:00", "2026-12-05T23:30")
    second = raise_change(api, "Move the shares' mail relay", "file-shares", "mail-server",
                          "2026-12-05T23:00Z", "2026-12-06T01:00Z")
    apart = raise_change(api, "Mail archive clean-up", "file-shares", "mail-server", "2026-12-06T02:00Z",
                         "2026-12-06T03:00Z")
    for key, other in ((first, second), (second, first)):
        task = _task(api, key, "approve_cab")
        shown = api.get(f"/tasks/{task['id']}", "dave").json["impact"]
        overlaps = [c for c in shown["window"]["conflicts"] if c["kind"] == "overlap"]
        assert [(c["with"], c["cis"]) for c in overlaps] == [(other, ["mail-server"])], shown["window"]
        assert [c["kind"] for c in shown["window"]["conflicts"]] == ["overlap"]
        by_ref = api.get(f"/changes/conflicts?ref={key}", "dave").json
        assert [c["with"] for c in by_ref["conflicts"]] == [other]
    assert api.get(f"/changes/conflicts?ref={apart}", "dave").json["conflicts"] == []
    in_week = api.get(f"/changes/conflicts?{WEEK}", "carol").json["changes"]
    assert sorted(c["business_key"] for c in in_week) == sorted([first, second])

    # The CAB turns the second one down and it is withdrawn: the first is no longer flagged.
    _do(api, second, "approve_cab", "dave", {"approved": False, "approval_note": "clashes with the patch"})
    _do(api, second, "revise_rfc", "ivan", {"requester_decision": "withdraw"})
    assert api.get(f"/changes/conflicts?ref={first}", "dave").json["conflicts"] == []


def test_a_change_window_outside_maintenance_hours_is_flagged(cat_api: Api) -> None:
    api = cat_api
    setup(api)
    # A Wednesday morning on e-mail, whose maintenance window is weekend nights.
    key = raise_change(api, "Resize the mailboxes", "email", "mail-server", "2026-12-02T10:00Z", "2026-12-02T12:00Z")
    task = _task(api, key, "approve_cab")
    conflicts = api.get(f"/tasks/{task['id']}", "dave").json["impact"]["window"]["conflicts"]
    assert [(c["kind"], c["service"], c["calendar"]) for c in conflicts] == [
        ("outside_maintenance", "email", "weekend-nights")]
    # A CI serving the donor CRM brings its maintenance window in too; a service with none flags nothing.
    other = raise_change(api, "Tune the CRM database", "file-shares", "crm-db", "2026-12-02T10:00Z",
                         "2026-12-02T11:00Z")
    kinds = [(c["kind"], c.get("service")) for c in api.get(f"/changes/conflicts?ref={other}", "dave").json[
        "conflicts"]]
    assert kinds == [("outside_maintenance", "donor-crm")]


def test_blackouts_are_declared_by_process_owners_and_flag_changes_in_them(cat_api: Api) -> None:
    api = cat_api
    setup(api)
    body = {"name": "Christmas appeal", "reason": "donations peak", "starts_at": "2026-12-19T00:00Z",
            "ends_at": "2026-12-21T00:00Z", "service": "donor-crm"}
    for user in ("ivan", "carol", "dave"):
        error(api.post("/blackouts", user, json=body), 403)
    bad = error(api.post("/blackouts", "grace", json={**body, "ends_at": "2026-12-18T00:00Z", "service": "fax"}),
                422)
    assert set(bad["details"]["fields"]) == {"ends_at", "service"}
    error(api.post("/blackouts", "grace", json={**body, "starts_at": "soon"}), 422)
    made = api.post("/blackouts", "grace", json=body)
    assert made.status_code == 201, made.json
    on_crm = raise_change(api, "CRM release", "file-shares", "crm-app", "2026-12-19T22:00Z", "2026-12-19T23:00Z")
    on_mail = raise_change(api, "Mail release", "email", "mail-server", "2026-12-19T22:00Z", "2026-12-19T23:00Z")
    kinds = [c["kind"] for c in api.get(f"/changes/conflicts?ref={on_crm}", "dave").json["conflicts"]]
    assert "blackout" in kinds
    assert api.get(f"/changes/conflicts?ref={on_mail}", "dave").json["conflicts"] == []  # another service
    # Widened to every service, it catches the mail change too.
    assert api.patch(f"/blackouts/{made.json['id']}", "grace", json={"service": None}).status_code == 200
    assert [c["kind"] for c in api.get(f"/changes/conflicts?ref={on_mail}", "dave").json["conflicts"]] == [
        "blackout"]
    assert [e["type"] for e in trail(api) if e["type"].startswith("catalogue.blackout")] == [
        "catalogue.blackout_created", "catalogue.blackout_updated"]
    assert api.delete(f"/blackouts/{made.json['id']}", "grace").status_code == 204
    error(api.delete(f"/blackouts/{made.json['id']}", "grace"), 404)


def test_the_calendar_lists_filters_and_feeds_the_windows(cat_api: Api) -> None:
    api = cat_api
    setup(api)
    mail = raise_change(api, "Patch the mail server", "email", "mail-server", "2026-12-05T22:00Z",
                        "2026-12-05T23:00Z")
    crm = raise_change(api, "CRM index rebuild", "donor-crm", "crm-db", "2026-12-06T01:00Z", "2026-12-06T02:00Z")
    later = raise_change(api, "Mail quota change", "email", "mail-server", "2026-12-12T22:00Z", "2026-12-12T23:00Z")
    week = api.get(f"/changes/calendar?{WEEK}", "carol").json["changes"]
    assert [c["business_key"] for c in week] == [mail, crm]
    assert week[0]["cis"] == ["mail-server"] and week[0]["approved"] is False
    assert [c["business_key"] for c in api.get(f"/changes/calendar?{WEEK}&ci=crm-db", "carol").json["changes"]] == [
        crm]
    month = "from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z"
    by_service = api.get(f"/changes/calendar?{month}&service=email", "carol").json["changes"]
    assert [c["business_key"] for c in by_service] == [mail, later]
    error(api.get("/changes/calendar?from=yesterday", "carol"), 400)
    error(api.get("/changes/calendar?from=2026-12-07T00:00Z&to=2026-12-01T00:00Z", "carol"), 400)
    error(api.get(f"/changes/calendar?{WEEK}", "ivan"), 403)
    error(api.get("/changes/conflicts?ref=RFC-999999", "carol"), 404)

    feed = api.get(f"/changes/calendar.ics?{month}", "carol")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    events = Calendar.from_ical(feed.data).walk("VEVENT")
    assert sorted(str(e["uid"]) for e in events) == sorted(f"{k}@itsmflow" for k in (mail, crm, later))
    first = next(e for e in events if str(e["uid"]) == f"{mail}@itsmflow")
    assert first.decoded("dtstart").isoformat() == "2026-12-05T22:00:00+00:00"
    assert str(first["status"]) == "TENTATIVE"


def test_the_impact_view_shows_services_cis_and_open_incidents(cat_api: Api) -> None:
    api = cat_api
    setup(api)
    incident = api.post("/instances", "alice", json={"process": "response", "data": {
        "summary": "CRM pages time out", "description": "since the morning", "service": "donor-crm",
        "query_type": "incident", "impact": "medium", "urgency": "medium", "reporter": "ivan",
        "affected_cis": "crm-app"}})
    assert incident.status_code == 201, incident.json
    elsewhere = api.post("/instances", "alice", json={"process": "response", "data": {
        "summary": "Mail bounces", "service": "email", "query_type": "incident", "impact": "low",
        "urgency": "low", "reporter": "ivan"}})
    assert elsewhere.status_code == 201
    key = raise_change(api, "Upgrade the CRM database", "file-shares", "crm-db", "2026-12-05T22:00Z",
                       "2026-12-05T23:00Z")
    seen = api.get(f"/instances/{key}/impact", "carol").json
    assert [(c["id"], c["why"]) for c in seen["cis"]] == [("crm-db", "listed"), ("crm-app", "depends on crm-db")]
    assert [(s["id"], s["why"]) for s in seen["services"]] == [
        ("file-shares", "the record's service"), ("donor-crm", "served by crm-app")]
    assert [r["business_key"] for r in seen["open_records"]] == [incident.json["business_key"]]
    assert seen["window"]["starts_at"] == "2026-12-05T22:00:00+00:00"
    task = _task(api, key, "approve_cab")
    assert api.get(f"/tasks/{task['id']}", "dave").json["impact"]["cis"] == seen["cis"]
    # A task the diagram does not declare shows no impact view.
    assess = api.post("/instances", "cora", json={"process": "change", "data": {"requester": "ivan",
        "title": "x", "description": "y", "service": "email"}}).json["business_key"]
    assert api.get(f"/tasks/{_task(api, assess, 'assess')['id']}", "erin").json.get("impact") is None
    error(api.get("/instances/RFC-999999/impact", "carol"), 404)
    error(api.get(f"/instances/{key}/impact", "bob"), 403)
