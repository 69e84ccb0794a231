"""Server-computed facts through the HTTP API: the record's service decides donor-facing, criticality and the
tier, whatever the start payload or a form says; every difference is a facts.overridden event."""

from __future__ import annotations

from typing import Any

from tests.catalogue.conftest import CatalogueApi as Api
from tests.catalogue.conftest import error

RFC = {"title": "Add a Gift Aid field to donor records", "description": "HMRC asks for the declaration date",
       "service": "donor-crm", "requester": "ivan"}


def audit_of(api: Api, ref: str, kind: str) -> list[dict[str, Any]]:
    events = api.get(f"/instances/{ref}/audit", "heidi").json["events"]
    return [e for e in events if e["type"] == kind]


def open_task(api: Api, ref: str, element_id: str) -> dict[str, Any]:
    found = [t for t in api.get(f"/instances/{ref}", "heidi").json["tasks"] if t["element_id"] == element_id]
    assert found, api.get(f"/instances/{ref}", "heidi").json["tasks"]
    return found[0]


def complete(api: Api, ref: str, element_id: str, user: str, data: dict[str, Any]) -> Any:
    task = open_task(api, ref, element_id)
    assert api.post(f"/tasks/{task['id']}/claim", user).status_code == 200
    return api.post(f"/tasks/{task['id']}/complete", user, json={"data": data})


def test_a_change_on_a_donor_facing_service_routes_to_the_sponsor_whatever_the_form_says(cat_api: Api) -> None:
    api = cat_api
    # The flags are the catalogue's: a start may not say them at all.
    said = error(api.post("/instances", "carol", json={"process": "change", "data": {
        **RFC, "critical_service": False, "donor_facing": False}}), 422, "validation_failed")
    assert set(said["details"]["fields"]) == {"critical_service", "donor_facing"}
    started = api.post("/instances", "carol", json={"process": "change", "data": RFC})
    assert started.status_code == 201, started.json
    key = started.json["business_key"]
    record = started.json["data"]
    assert (record["donor_facing"], record["critical_service"], record["service_tier"]) == (True, True, 1)
    assert (record["service_name"], record["service_owner"]) == ("Donor CRM", "bob")
    assert audit_of(api, key, "facts.overridden") == []  # nothing was said that the catalogue contradicts

    # The implementer says it is not donor-facing: the catalogue says otherwise, and wins.
    done = complete(api, key, "assess", "erin", {"assessment": "valid", "estimated_hours": 1, "users_affected": 5,
                                                 "donor_facing": False})
    assert done.status_code == 200, done.json
    assert done.json["instance"]["data"]["donor_facing"] is True
    in_assess = audit_of(api, key, "facts.overridden")[-1]
    assert in_assess["element_id"] == "assess" and in_assess["actor"] == "erin"
    assert in_assess["data"]["overridden"] == [{"field": "donor_facing", "said": False, "value": True,
                                               "source": "form", "provider": "catalogue"}]
    completed = [e for e in audit_of(api, key, "task.completed") if e["element_id"] == "assess"][0]
    assert completed["data"]["form"]["donor_facing"] is False  # what the person said stays on record

    assert complete(api, key, "schedule", "erin", {"change_window_start": "2026-12-05",
                                                   "change_window_end": "2026-12-06"}).status_code == 200
    assert complete(api, key, "prepare", "erin", {"backout_plan": "restore the previous field set",
                                                  "risk_likelihood": 1, "risk_impact": 2}).status_code == 200
    view = api.get(f"/instances/{key}", "heidi").json
    assert view["data"]["approver"] == "executive_sponsor"
    assert [t["element_id"] for t in view["tasks"]] == ["approve_sponsor"]
    decision = [e for e in audit_of(api, key, "decision.evaluated") if e["data"]["decision"] == "decision_rights"][0]
    assert decision["data"]["evaluation"]["inputs"]["Donor-facing service"] is True


def test_the_facts_follow_the_catalogue_from_step_to_step(cat_api: Api) -> None:
    api = cat_api
    key = api.post("/instances", "carol", json={"process": "change", "data": {**RFC, "service": "email"}}).json[
        "business_key"]
    assert api.get(f"/instances/{key}", "heidi").json["data"]["donor_facing"] is False
    # The e-mail service starts taking donor enquiries: a process owner marks it donor-facing.
    assert api.patch("/services/email", "grace", json={"donor_facing": True}).status_code == 200
    complete(api, key, "assess", "erin", {"assessment": "valid", "estimated_hours": 1, "users_affected": 5})
    assert api.get(f"/instances/{key}", "heidi").json["data"]["donor_facing"] is True
    last = audit_of(api, key, "facts.overridden")[-1]["data"]["overridden"]
    assert {"field": "donor_facing", "said": False, "value": True, "source": "record",
            "provider": "catalogue"} in last


def test_a_typed_service_name_becomes_its_id_and_an_unknown_service_is_refused(cat_api: Api) -> None:
    api = cat_api
    before = len(api.get("/instances", "heidi").json["instances"])
    refused = error(api.post("/instances", "carol", json={"process": "change", "data": {**RFC, "service": "fax"}}),
                    422, "validation_failed")
    assert "fax" in refused["details"]["fields"]["service"]
    assert len(api.get("/instances", "heidi").json["instances"]) == before  # nothing was started

    inc = api.post("/instances", "ivan", json={"process": "response", "data": {}}).json["business_key"]
    incident = {"summary": "Cannot open the donor list", "service": "printer", "reporter": "ivan",
                "query_type": "incident", "impact": "medium", "urgency": "medium"}
    refused = error(complete(api, inc, "record", "alice", incident), 422)
    assert set(refused["details"]["fields"]) == {"service"}
    assert open_task(api, inc, "record")  # still there, nothing stored
    done = complete(api, inc, "record", "alice", {**incident, "service": "donor crm"})
    assert done.status_code == 200, done.json
    assert done.json["instance"]["data"]["service"] == "donor-crm"
    typed = audit_of(api, inc, "facts.overridden")[-1]["data"]["overridden"]
    assert {"field": "service", "said": "donor crm", "value": "donor-crm", "source": "form",
            "provider": "catalogue"} in typed
    retired = api.patch("/services/file-shares", "grace", json={"active": False})
    assert retired.status_code == 200
    error(api.post("/instances", "carol", json={"process": "change", "data": {**RFC, "service": "file-shares"}}), 422)


def test_an_incidents_service_drives_its_sla_targets(cat_api: Api) -> None:
    api = cat_api
    targets = {}
    for service in ("donor-crm", "email"):
        key = api.post("/instances", "ivan", json={"process": "response", "data": {}}).json["business_key"]
        done = complete(api, key, "record", "alice", {
            "summary": "Nobody can sign in", "service": service, "reporter": "ivan", "query_type": "incident",
            "impact": "high", "urgency": "high"})
        assert done.status_code == 200, done.json
        record = done.json["instance"]["data"]
        evaluated = [e for e in audit_of(api, key, "decision.evaluated") if e["data"]["decision"] == "sla"][0]
        targets[service] = (record["priority"], record["service_tier"], record["respond_target"],
                            record["resolve_target"], evaluated["data"]["evaluation"]["matched"])
    assert targets["donor-crm"] == ("P1", 1, "PT10M", "PT2H", ["sla_p1_critical"])
    assert targets["email"] == ("P1", 2, "PT15M", "PT4H", ["sla_p1"])


def test_without_a_catalogue_services_stay_free_text(api: Api) -> None:
    started = api.post("/instances", "carol", json={"process": "change", "data": {**RFC, "service": "vpn"}})
    assert started.status_code == 201
    assert started.json["data"]["critical_service"] is False and "service_tier" not in started.json["data"]
    assert audit_of(api, started.json["business_key"], "facts.overridden") == []
