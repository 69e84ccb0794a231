"""Requesters and reporters are picked from the accounts (issue 12): staff list them through the API, the pages
offer them as a picker on the fields that name people, and a requester sees no one else's account."""

from __future__ import annotations

import re

from engine.db.database import Database
from engine.services import users
from tests.api.conftest import Api
from tests.rights.conftest import ok, refused, task
from tests.web.conftest import sign_in


def test_staff_list_the_accounts_a_requester_or_reporter_may_name(shipped: Api, db: Database) -> None:
    api = shipped
    users.add_user(db, "jo.finance", "a-long-password", ["requester"], display_name="Jo Adeyemi")
    users.add_user(db, "gone", "a-long-password", ["requester"], display_name="Left last year")
    ok(api.patch("/users/gone", "admin", json={"active": False, "reason": "left last year"}))  # an account that left
    listed = ok(api.get("/people?q=adey", "alice"))["people"]
    assert ok(api.get("/people?q=left", "alice"))["people"] == []
    assert listed == [{"username": "jo.finance", "display_name": "Jo Adeyemi"}]
    everyone = [p["username"] for p in ok(api.get("/people?limit=500", "carol"))["people"]]
    assert {"alice", "ivan", "stella", "jo.finance"} <= set(everyone) and everyone == sorted(everyone)
    assert len(ok(api.get("/people?limit=2", "alice"))["people"]) == 2
    denied = refused(api.get("/people", "ivan"), 403)
    assert "staff" in denied["message"]


def test_the_record_form_offers_the_accounts_as_a_picker(shipped: Api, db: Database) -> None:
    api = shipped
    users.add_user(db, "jo.finance", "a-long-password", ["requester"], display_name="Jo Adeyemi")
    key = ok(api.post("/instances", "ivan", json={"process": "response", "data": {
        "summary": "Printer jam", "service": "print", "impact": "low", "urgency": "low"}}), 201)["business_key"]
    record_task = task(api, key, "record")["id"]
    client = api.client
    sign_in(client, "alice")
    html = client.get(f"/tasks/{record_task}").get_data(as_text=True)
    picker = re.search(r'<select id="f-reporter" name="reporter".*?</select>', html, re.S)
    assert picker is not None, "the reporter is picked, not typed"
    assert '<option value="jo.finance">Jo Adeyemi (jo.finance)</option>' in picker.group(0)
    assert 'value="ivan"' in picker.group(0)
    assert 'id="f-summary"' in html and '<select id="f-summary"' not in html  # other fields stay as they were
