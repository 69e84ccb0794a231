"""Standard-change models in the catalogue, through the HTTP API: each service lists the models of the deployed
table (the one the change process declares) that apply to it, with their limits and the table version in force;
raising one goes through the normal start, and the server still classes the change from its facts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from tests.catalogue.conftest import CatalogueApi as Api
from tests.catalogue.conftest import error

TABLE = Path(__file__).resolve().parents[2] / "processes" / "change" / "standard_change.dmn"
WINDOW = {"change_window_start": "2026-12-05T22:00:00Z", "change_window_end": "2026-12-05T23:00:00Z"}


def models(api: Api, service: str, user: str) -> list[dict[str, Any]]:
    resp = api.get(f"/services/{service}", user)
    assert resp.status_code == 200, resp.json
    return resp.json["standard_changes"]


def raise_standard(api: Api, model: dict[str, Any], hours: int, users: int) -> dict[str, Any]:
    start = model["start"]
    resp = api.post("/records", "carol", json={"option": start["option"], "data": {
        **start["values"], "title": "Reset Pat's password", "description": "locked out after leave",
        "estimated_hours": hours, "users_affected": users, "backout_plan": "none needed", **WINDOW}})
    assert resp.status_code == 201, resp.json
    return api.get(f"/instances/{resp.json['business_key']}", "heidi").json["data"]


def test_each_service_lists_the_models_that_apply_to_it_with_their_limits(cat_api: Api) -> None:
    api = cat_api
    email = models(api, "email", "carol")
    assert [m["model"] for m in email] == ["password_reset"]
    reset = email[0]
    assert {(lim["field"], lim["test"]) for lim in reset["limits"]} == {("estimated_hours", "<= 1"),
                                                                       ("users_affected", "<= 1")}
    assert reset["outputs"]["standard_limits"] == "1 h, 1 user, directory/email"
    assert (reset["source"]["process"], reset["source"]["table"], reset["source"]["version"]) == (
        "change", "standard_change", 1)
    assert reset["start"] == {"option": "standard", "values": {"service": "email", "standard_model": "password_reset"}}
    assert [m["model"] for m in models(api, "file-shares", "carol")] == ["add_to_group"]
    assert models(api, "donor-crm", "carol") == []  # no model names it: every change there is classed as usual
    # Everyone reads them; only those who may start a change get the start.
    seen = models(api, "email", "ivan")
    assert [m["model"] for m in seen] == ["password_reset"] and seen[0]["start"] is None
    error(api.get("/services/email"), 401)


def test_a_standard_change_raised_from_a_model_is_still_classed_by_the_server(cat_api: Api) -> None:
    api = cat_api
    reset = models(api, "email", "carol")[0]
    within = raise_standard(api, reset, hours=1, users=1)
    assert (within["standard_model"], within["standard_match"], within["change_class"]) == (
        "password_reset", True, "standard")
    beyond = raise_standard(api, reset, hours=3, users=1)  # the model only pre-fills: its limits still bind
    assert beyond["standard_match"] is False and beyond["change_class"] != "standard"
    refused = error(api.post("/records", "carol", json={"option": "standard", "data": {
        **reset["start"]["values"], "standard_match": True, "title": "x"}}), 422)
    assert "standard_match" in refused["details"]["fields"]  # a server field cannot be sent


def test_a_new_table_version_changes_what_the_catalogue_shows(cat_api: Api) -> None:
    api = cat_api
    wider = TABLE.read_text().replace(
        '<inputEntry id="standard_change_password_reset_hours"><text>&lt;= 1</text>',
        '<inputEntry id="standard_change_password_reset_hours"><text>&lt;= 2</text>')
    upload = {"dmn": (io.BytesIO(wider.encode()), "standard_change.dmn"), "tests": "[]"}
    assert api.post("/decisions/standard_change/versions", "grace", data=upload).status_code == 201
    reset = models(api, "email", "bob")[0]  # bob holds resolver, the role that owns e-mail
    assert (reset["source"]["version"], reset["source"]["deployed_by"]) == (2, "grace")
    assert ("estimated_hours", "<= 2") in {(lim["field"], lim["test"]) for lim in reset["limits"]}
    assert reset["start"] is None  # a resolver does not raise changes directly
    assert raise_standard(api, models(api, "email", "carol")[0], hours=2, users=1)["change_class"] == "standard"
