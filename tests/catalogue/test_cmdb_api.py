"""The lean CMDB through the HTTP API: configuration items with their services and relations, who may edit
what, every edit in the trail, CSV export and import, and records linking CIs by id (checked on the server)."""

from __future__ import annotations

from typing import Any

from tests.catalogue.conftest import CatalogueApi as Api
from tests.catalogue.conftest import error, trail

CIS = [
    {"id": "crm-db", "name": "CRM database", "type": "database", "owner_role": "resolver", "services": ["donor-crm"]},
    {"id": "crm-app", "name": "CRM application", "type": "application", "owner_user": "bob",
     "services": ["donor-crm"], "depends_on": ["crm-db"]},
    {"id": "mail-server", "name": "Mail server", "type": "server", "owner_role": "resolver", "services": ["email"]},
]


def make_cis(api: Api) -> None:
    for body in CIS:
        made = api.post("/cis", "grace", json=body)
        assert made.status_code == 201, made.json


def test_a_process_owner_records_cis_and_everyone_reads_them(cat_api: Api) -> None:
    api = cat_api
    make_cis(api)
    app = api.get("/cis/crm-app", "ivan").json
    assert (app["type"], app["owner_user"], app["services"], app["depends_on"], app["runs_on"]) == (
        "application", "bob", ["donor-crm"], ["crm-db"], [])
    assert api.get("/cis/crm-db", "ivan").json["used_by"] == ["crm-app"]
    assert [c["id"] for c in api.get("/cis?service=donor-crm", "ivan").json["cis"]] == ["crm-app", "crm-db"]
    assert [c["id"] for c in api.get("/cis?type=server", "ivan").json["cis"]] == ["mail-server"]
    assert [e["data"]["ci"] for e in trail(api, "catalogue.ci_created")] == ["crm-db", "crm-app", "mail-server"]
    error(api.get("/cis/nope", "ivan"), 404)
    error(api.get("/cis"), 401)


def test_bad_ci_input_is_refused_naming_the_fields(cat_api: Api) -> None:
    api = cat_api
    make_cis(api)
    bad = error(api.post("/cis", "grace", json={"name": "", "type": "toaster", "owner_user": "nobody",
                                                "services": ["no-such"], "depends_on": ["ghost"]}), 422)
    assert set(bad["details"]["fields"]) >= {"name", "type", "owner_user", "services", "depends_on"}
    bad = error(api.patch("/cis/crm-db", "grace", json={"runs_on": ["crm-db"]}), 422)
    assert "itself" in bad["details"]["fields"]["runs_on"]
    error(api.patch("/cis/crm-db", "grace", json={"services": "not a list", "colour": "red"}), 422)
    error(api.post("/cis", "grace", json={"name": "crm database", "type": "database", "owner_role": "resolver",
                                          "services": ["donor-crm"]}), 409)
    error(api.post("/cis", "grace", data="{broken", content_type="application/json"), 400)
    error(api.delete("/cis/crm-db", "grace"), 409)  # crm-app depends on it
    assert len(api.get("/cis", "grace").json["cis"]) == 3


def test_service_owners_edit_their_cis_and_only_admins_change_ownership(cat_api: Api) -> None:
    api = cat_api
    make_cis(api)
    # bob owns the donor CRM service: he adds a CI under it and edits its CIs, but puts none under the website.
    assert api.post("/services", "grace", json={"name": "Website", "owner_role": "cab", "tier": 2}).status_code == 201
    made = api.post("/cis", "bob", json={"name": "CRM web server", "type": "server", "owner_user": "bob",
                                         "services": ["donor-crm"]})
    assert made.status_code == 201, made.json
    assert api.patch("/cis/crm-db", "bob", json={"description": "PostgreSQL 16"}).status_code == 200
    error(api.patch("/cis/crm-db", "bob", json={"owner_role": "cab"}), 403)
    error(api.patch("/cis/crm-db", "bob", json={"services": ["donor-crm", "website"]}), 403)
    error(api.post("/cis", "bob", json={"name": "Bob's box", "type": "server", "owner_user": "bob"}), 403)
    error(api.patch("/cis/mail-server", "ivan", json={"description": "mine now"}), 403)
    error(api.patch("/cis/mail-server", "carol", json={"description": "mine now"}), 403)
    assert api.patch("/cis/crm-db", "admin", json={"owner_user": "bob", "owner_role": None}).status_code == 200
    history = api.get("/cis/crm-db/history", "heidi").json["events"]
    assert [e["type"] for e in history] == ["catalogue.ci_created", "catalogue.ci_updated", "catalogue.ci_updated"]
    assert history[1]["actor"] == "bob"
    assert history[1]["data"]["changes"] == {"description": {"old": "", "new": "PostgreSQL 16"}}
    assert history[2]["data"]["changes"]["owner_user"] == {"old": None, "new": "bob"}


def test_csv_export_and_import_round_trip_all_or_nothing(cat_api: Api) -> None:
    api = cat_api
    make_cis(api)
    exported = api.get("/cis.csv", "ivan")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    lines = exported.data.decode().splitlines()
    assert lines[0] == "id,name,type,description,owner_user,owner_role,services,depends_on,runs_on,active"
    assert "crm-app,CRM application,application,,bob,,donor-crm,crm-db,,true" in lines

    # A row naming a CI further down, an update of an existing one, and a new host.
    csv_text = ("id,name,type,owner_role,services,depends_on,runs_on\n"
                "crm-db,CRM database,database,resolver,donor-crm,,vm-01\n"
                "vm-01,VM host 01,virtual-machine,resolver,donor-crm;email,,\n")
    done = api.post("/cis.csv", "grace", data=csv_text, content_type="text/csv")
    assert done.status_code == 200, done.json
    assert done.json == {"created": ["vm-01"], "updated": ["crm-db"], "unchanged": []}
    assert api.get("/cis/crm-db", "ivan").json["runs_on"] == ["vm-01"]
    imported = [e for e in trail(api, "catalogue.ci_created") if e["data"]["via"] == "csv"]
    assert [e["data"]["ci"] for e in imported] == ["vm-01"]

    # One bad row refuses the whole file, naming the line and the column; nothing of it is stored.
    bad = ("id,name,type,owner_role,services\n"
           "printer-1,Printer 1,other,resolver,email\n"
           "printer-2,Printer 2,toaster,resolver,email\n")
    refused = error(api.post("/cis.csv", "grace", data=bad, content_type="text/csv"), 422)
    assert "line 3 type" in refused["details"]["fields"]
    error(api.get("/cis/printer-1", "ivan"), 404)
    error(api.post("/cis.csv", "grace", data="name,colour\nx,red\n", content_type="text/csv"), 422)
    error(api.post("/cis.csv", "grace", data=b"\xff\xfe\x00", content_type="text/csv"), 422)
    error(api.post("/cis.csv", "grace", data="", content_type="text/csv"), 400)
    error(api.post("/cis.csv", "ivan", data=bad.replace("toaster", "other"), content_type="text/csv"), 403)


def _task(api: Api, key: str, element_id: str) -> dict[str, Any]:
    found = [t for t in api.get(f"/instances/{key}", "heidi").json["tasks"] if t["element_id"] == element_id]
    assert found
    return found[0]


def test_changes_and_incidents_link_cis_by_id_checked_on_the_server(cat_api: Api) -> None:
    api = cat_api
    make_cis(api)
    rfc = {"title": "Upgrade the CRM database", "description": "minor version", "service": "donor-crm",
           "affected_cis": "crm-db, CRM application"}
    started = api.post("/instances", "cora", json={"process": "change", "data": {**rfc, "requester": "ivan"}})
    assert started.status_code == 201, started.json
    assert started.json["data"]["affected_cis"] == "crm-db, crm-app"  # a name typed becomes the id
    key = started.json["business_key"]
    bad = api.post("/instances", "cora", json={"process": "change", "data": {**rfc, "requester": "ivan",
                                                                       "affected_cis": "crm-db, nope"}})
    assert "nope" in error(bad, 422)["details"]["fields"]["affected_cis"]

    task = _task(api, key, "assess")
    assert api.post(f"/tasks/{task['id']}/claim", "erin").status_code == 200
    refused = api.post(f"/tasks/{task['id']}/complete", "erin", json={"data": {
        "assessment": "valid", "estimated_hours": 2, "users_affected": 5, "affected_cis": "ghost"}})
    assert "ghost" in error(refused, 422)["details"]["fields"]["affected_cis"]
    done = api.post(f"/tasks/{task['id']}/complete", "erin", json={"data": {
        "assessment": "valid", "estimated_hours": 2, "users_affected": 5, "affected_cis": "crm-db"}})
    assert done.status_code == 200, done.json
    assert done.json["instance"]["data"]["affected_cis"] == "crm-db"

    incident = api.post("/instances", "alice", json={"process": "response", "data": {
        "summary": "Mail is slow", "description": "since 9", "service": "email", "query_type": "incident",
        "impact": "medium", "urgency": "medium", "reporter": "ivan", "affected_cis": "mail-server"}})
    assert incident.status_code == 201, incident.json
    assert incident.json["data"]["affected_cis"] == "mail-server"
