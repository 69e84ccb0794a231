"""Services and calendars through the API: who may add and edit what, bad input refused with the field named,
every edit in the audit trail."""

from __future__ import annotations

from tests.catalogue.conftest import NIGHTS, OFFICE, error, trail
from tests.catalogue.conftest import CatalogueApi as Api


def test_a_process_owner_builds_the_catalogue_and_everyone_reads_it(cat_api: Api) -> None:
    api = cat_api
    listed = api.get("/services", "ivan").json["services"]
    assert [s["id"] for s in listed] == ["donor-crm", "email", "file-shares"]  # by name
    crm = api.get("/services/donor-crm", "ivan").json
    assert (crm["tier"], crm["tier_name"], crm["critical"], crm["donor_facing"]) == (1, "critical", True, True)
    assert (crm["owner_user"], crm["owner_role"]) == ("bob", None)
    assert (crm["support_calendar"], crm["maintenance_calendar"]) == ("office-hours", "weekend-nights")
    office = api.get("/calendars/office-hours", "ivan").json
    assert office["time_zone"] == "Europe/London" and len(office["hours"]) == 5
    assert office["holidays"] == [{"date": "2026-12-25", "name": "Christmas Day"}]
    created = trail(api, "catalogue.service_created")
    assert [e["data"]["service"] for e in created] == ["email", "donor-crm", "file-shares"]
    assert {e["actor"] for e in created} == {"grace"}
    assert [e["data"]["calendar"]["id"] for e in trail(api, "catalogue.calendar_created")] == [
        "office-hours", "weekend-nights"]
    error(api.get("/services/nope", "ivan"), 404)
    error(api.get("/services"), 401)


def test_only_process_owners_and_admins_add_services_and_calendars(cat_api: Api) -> None:
    api = cat_api
    body = {"name": "Website", "owner_role": "resolver", "tier": 2, "donor_facing": True}
    for user in ("ivan", "bob", "carol", "heidi"):
        error(api.post("/services", user, json=body), 403, "not_allowed")
        error(api.post("/calendars", user, json={**OFFICE, "id": "x", "name": "X"}), 403)
    made = api.post("/services", "admin", json=body)
    assert made.status_code == 201 and made.json["id"] == "website"  # the id a name suggests


def test_bad_service_input_names_every_field_and_stores_nothing(cat_api: Api) -> None:
    api = cat_api
    bad = error(api.post("/services", "grace", json={
        "id": "Not An Id", "name": "", "tier": 7, "donor_facing": "maybe", "owner_user": "nobody",
        "support_calendar": "no-such"}), 422, "validation_failed")
    fields = bad["details"]["fields"]
    assert set(fields) >= {"id", "name", "tier", "donor_facing"}
    bad = error(api.post("/services", "grace", json={"name": "Printing", "tier": 3, "owner_user": "nobody",
                                                      "support_calendar": "no-such"}), 422)
    assert set(bad["details"]["fields"]) == {"owner_user", "support_calendar"}
    bad = error(api.post("/services", "grace", json={"name": "Printing", "tier": 3, "owner_user": "bob",
                                                      "owner_role": "resolver"}), 422)
    assert "exactly one owner" in bad["details"]["fields"]["owner_user"]
    error(api.post("/services", "grace", json={"name": "Printing", "tier": 3, "owner_role": "resolver",
                                               "colour": "red"}), 422)
    error(api.post("/services", "grace", json=["not", "an", "object"]), 400)
    error(api.post("/services", "grace", data="{broken", content_type="application/json"), 400)
    error(api.post("/services", "grace", json={"name": "e-mail", "tier": 2, "owner_role": "resolver"}), 409)
    error(api.post("/services", "grace", json={"id": "email", "name": "Mail 2", "tier": 2,
                                               "owner_role": "resolver"}), 409)
    error(api.patch("/services/email", "grace", json={"tier": "high"}), 422)
    assert [s["id"] for s in api.get("/services", "grace").json["services"]] == ["donor-crm", "email", "file-shares"]


def test_a_service_owner_edits_their_service_but_not_what_routes_approvals(cat_api: Api) -> None:
    api = cat_api
    edited = api.patch("/services/donor-crm", "bob", json={"description": "Donors, gifts, Gift Aid claims",
                                                           "maintenance_calendar": "office-hours"})
    assert edited.status_code == 200, edited.json
    assert edited.json["description"] == "Donors, gifts, Gift Aid claims"
    denied = error(api.patch("/services/donor-crm", "bob", json={"donor_facing": False}), 403)
    assert "donor_facing" in denied["message"]
    error(api.patch("/services/donor-crm", "bob", json={"tier": 3}), 403)
    error(api.patch("/services/donor-crm", "bob", json={"owner_user": "alice"}), 403)
    error(api.patch("/services/email", "carol", json={"description": "x"}), 403)  # not carol's
    # The e-mail service is owned by a role: every holder of it is an owner.
    assert api.patch("/services/email", "bob", json={"description": "Mail for all staff"}).status_code == 200
    assert api.get("/services/donor-crm", "ivan").json["donor_facing"] is True
    updates = trail(api, "catalogue.service_updated")
    assert [(e["actor"], e["data"]["service"]) for e in updates] == [("bob", "donor-crm"), ("bob", "email")]
    assert updates[0]["data"]["changes"]["maintenance_calendar"] == {"old": "weekend-nights", "new": "office-hours"}
    retired = api.patch("/services/file-shares", "grace", json={"active": False})
    assert retired.json["active"] is False
    assert "file-shares" not in [s["id"] for s in api.get("/services", "ivan").json["services"]]
    assert "file-shares" in [s["id"] for s in api.get("/services?include_retired=1", "ivan").json["services"]]


def test_calendars_answer_whether_an_instant_is_inside(cat_api: Api) -> None:
    api = cat_api
    # Monday 2 March 2026, 08:30 in London is 08:30 UTC (winter time); in summer 08:30 London is 07:30 UTC.
    assert api.get("/calendars/office-hours/open?at=2026-03-02T08:30:00Z", "ivan").json["open"] is True
    assert api.get("/calendars/office-hours/open?at=2026-03-02T07:59:00Z", "ivan").json["open"] is False
    assert api.get("/calendars/office-hours/open?at=2026-07-06T07:30:00Z", "ivan").json["open"] is True
    assert api.get("/calendars/office-hours/open?at=2026-07-06T06:59:00Z", "ivan").json["open"] is False
    christmas = api.get("/calendars/office-hours/open?at=2026-12-25T10:00:00Z", "ivan").json
    assert christmas["open"] is False and christmas["next_open"].startswith("2026-12-28T08:00")
    assert api.get("/calendars/weekend-nights/open?at=2026-03-07T23:30:00Z", "ivan").json["open"] is True
    assert api.get("/calendars/weekend-nights/open?at=2026-03-08T05:59:00Z", "ivan").json["open"] is True
    assert api.get("/calendars/weekend-nights/open?at=2026-03-08T06:00:00Z", "ivan").json["open"] is False
    error(api.get("/calendars/office-hours/open?at=tuesday", "ivan"), 400)
    error(api.get("/calendars/office-hours/open?at=2026-03-02T08:30:00", "ivan"), 400)  # no zone
    error(api.get("/calendars/nope/open", "ivan"), 404)


def test_calendar_edits_are_checked_audited_and_a_used_calendar_is_kept(cat_api: Api) -> None:
    api = cat_api
    bad = error(api.post("/calendars", "grace", json={"name": "Broken", "time_zone": "Mars/Olympus",
                                                      "hours": [{"day": "mon", "start": "18:00", "end": "08:00"}],
                                                      "holidays": [{"date": "31/12/2026"}]}), 422)
    assert set(bad["details"]["fields"]) == {"time_zone", "hours", "holidays"}
    bad = error(api.post("/calendars", "grace", json={
        "name": "Overlap", "time_zone": "UTC",
        "hours": [{"day": "tue", "start": "08:00", "end": "12:00"}, {"day": "tue", "start": "11:00", "end": "13:00"}]}),
        422)
    assert "overlaps" in bad["details"]["fields"]["hours"]
    error(api.post("/calendars", "grace", json={**NIGHTS, "name": "Other name"}), 409)  # the id is taken
    changed = api.patch("/calendars/office-hours", "grace", json={
        "holidays": [{"date": "2026-12-25", "name": "Christmas Day"}, {"date": "2026-12-28", "name": "Boxing Day"}]})
    assert changed.status_code == 200 and len(changed.json["holidays"]) == 2
    assert api.get("/calendars/office-hours/open?at=2026-12-28T10:00:00Z", "ivan").json["open"] is False
    error(api.patch("/calendars/office-hours", "bob", json={"holidays": []}), 403)
    update = trail(api, "catalogue.calendar_updated")[-1]
    assert update["actor"] == "grace" and set(update["data"]["changes"]) == {"holidays"}
    error(api.delete("/calendars/office-hours", "grace"), 409)  # services are served in it
    made = api.post("/calendars", "grace", json={"name": "Spare", "time_zone": "UTC"})
    assert made.json["id"] == "spare"
    assert api.delete("/calendars/spare", "grace").status_code == 204
    assert trail(api, "catalogue.calendar_deleted")[-1]["data"]["calendar"]["id"] == "spare"
    error(api.get("/calendars/spare", "grace"), 404)
