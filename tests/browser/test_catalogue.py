"""The catalogue in a real browser: a process owner adds a configuration item and edits it (its history shows
the edit), the change calendar shows a week and a month with two clashing changes marked, and the CAB's
approval task shows the impact view with the clash."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from sqlalchemy import select

from engine.db.database import Database, unit_of_work
from engine.db.models import HumanTask
from engine.services import demo_catalogue, instances
from tests.browser.conftest import Live, shot, sign_in
from tests.conftest import ADMIN, CORA, ERIN
from tests.support import deploy_process, do


def raise_change(db: Database, title: str, cis: str, start: str, end: str) -> str:
    inst = instances.start(db, CORA, "change", {"title": title, "description": "planned", "service": "file-shares",
                                                "affected_cis": cis, "requester": "ivan"})
    key = inst.business_key
    do(db, ERIN, key, "assess", {"assessment": "valid", "estimated_hours": 4, "users_affected": 60,
                                 "donor_facing": False})
    do(db, ERIN, key, "schedule", {"change_window_start": start, "change_window_end": end})
    do(db, ERIN, key, "prepare", {"backout_plan": "restore", "risk_likelihood": 1, "risk_impact": 2})
    return key


def setup(live: Live) -> tuple[str, str]:
    for name in ("change", "response"):
        deploy_process(live.db, name)
    demo_catalogue.seed(live.db)
    first = raise_change(live.db, "Rebuild the CRM indexes", "crm-db", "2026-12-05T22:00Z", "2026-12-05T23:30Z")
    second = raise_change(live.db, "Patch the VM host", "vm-host-01, crm-db", "2026-12-05T23:00Z",
                          "2026-12-06T01:00Z")
    return first, second


def test_a_process_owner_adds_and_edits_a_configuration_item(page: Any, live: Live) -> None:
    demo_catalogue.seed(live.db)
    sign_in(page, "grace")
    page.click("nav >> text=Catalogue")
    page.wait_for_selector("#services-table tr[data-service=donor-crm]")
    assert "donor" in page.inner_text("#services-table tr[data-service=donor-crm]").lower()
    page.click("#add-ci summary") if not page.is_visible("#ci-name") else None
    page.fill("#ci-name", "CRM reporting replica")
    page.select_option("#ci-type", "database")
    page.select_option("#ci-owner", "role:resolver")
    page.select_option("#ci-services", ["donor-crm"])
    page.select_option("#ci-depends", ["crm-db"])
    page.click("#add-ci-form button[type=submit]")
    page.wait_for_selector("#ci-facts")
    assert page.url.endswith("/catalogue/cis/crm-reporting-replica")
    facts = page.inner_text("#ci-facts")
    assert "donor-crm" in facts and "crm-db" in facts
    page.fill("#c-description", "Read-only copy for the fundraising reports")
    page.click("#ci-form button[type=submit]")
    page.wait_for_selector(".flash >> text=saved")
    history = page.inner_text("#ci-history")
    assert "grace added it" in history and "description: — → Read-only copy" in history
    shot(page, "catalogue-ci")
    page.goto("/catalogue/services/donor-crm")
    assert "CRM reporting replica" in page.inner_text("#service-cis")


def test_the_change_calendar_marks_clashing_changes(page: Any, live: Live) -> None:
    first, second = setup(live)
    sign_in(page, "carol")
    page.goto("/changes/calendar?view=week&date=2026-12-03")
    page.wait_for_selector("#change-calendar")
    saturday = page.locator("td[data-date='2026-12-05']")
    assert saturday.locator(f".cal-change[data-key='{first}'].has-conflict").count() == 1
    assert saturday.locator(f".cal-change[data-key='{second}'].has-conflict").count() == 1
    conflicts = page.inner_text("#calendar-conflicts")
    assert first in conflicts and second in conflicts and "CI crm-db" in conflicts
    shot(page, "change-calendar-week")
    page.select_option("#cal-view", "month")
    page.select_option("#cal-ci", "vm-host-01")
    page.click("#calendar-filters button[type=submit]")
    page.wait_for_selector(".calendar-month")
    assert page.locator(".cal-change").count() == 2  # the second change spans two days
    assert {page.locator(".cal-change").nth(i).get_attribute("data-key") for i in range(2)} == {second}
    page.click("a[rel=next]")
    page.wait_for_selector(".calendar-month")
    assert page.locator(".cal-change").count() == 0 and "2027" in page.inner_text(".page-head")


def test_the_cab_sees_the_impact_and_the_clash_on_its_approval_task(page: Any, live: Live) -> None:
    first, second = setup(live)
    with unit_of_work(live.db, readonly=True) as uow:
        task_id = uow.session.execute(select(HumanTask.id).where(
            HumanTask.business_key == first, HumanTask.element_id == "approve_cab")).scalar_one()
    sign_in(page, "dave")
    page.goto("/inbox")
    page.wait_for_selector(f"a[href='/tasks/{task_id}']")
    page.goto(f"/tasks/{task_id}")
    page.wait_for_selector("#impact")
    clash = page.inner_text("#impact-conflicts")
    # Saturday night is outside the file shares' weeknight maintenance window, and it overlaps the other change.
    assert "2 conflicts" in clash and f"overlaps {second}" in clash
    assert "maintenance window of File shares (weeknights)" in clash
    services = page.inner_text("#impact-services")
    assert "File shares" in services and "Donor CRM" in services and "donor-facing" in services
    cis = page.inner_text("#impact-cis")
    assert "CRM database" in cis and "CRM application" in cis  # it depends on the database
    shot(page, "change-impact")


def test_a_task_form_offers_the_cis_as_a_picker_of_several(page: Any, live: Live) -> None:
    for name in ("change", "response"):
        deploy_process(live.db, name)
    demo_catalogue.seed(live.db)
    key = instances.start(live.db, CORA, "change", {"title": "Archive old gifts", "description": "yearly",
                                                    "service": "donor-crm", "requester": "ivan"}).business_key
    with unit_of_work(live.db, readonly=True) as uow:
        task_id = uow.session.execute(select(HumanTask.id).where(
            HumanTask.business_key == key, HumanTask.element_id == "assess")).scalar_one()
    sign_in(page, "erin")
    page.goto(f"/tasks/{task_id}")
    page.wait_for_selector("select#f-affected_cis[multiple]")
    page.select_option("#f-affected_cis", ["crm-db", "crm-app"])
    page.fill("#f-estimated_hours", "2")
    page.fill("#f-users_affected", "10")
    page.click("#task-form button[type=submit]")
    page.wait_for_selector(".flash")
    with unit_of_work(live.db, readonly=True) as uow:
        data = instances.view(uow, instances.find(uow, ADMIN, key))["data"]
    assert data["affected_cis"] == "crm-app, crm-db"


def test_a_process_owner_declares_a_blackout_and_a_service_owner_edits_their_service(page: Any, live: Live) -> None:
    demo_catalogue.seed(live.db)
    sign_in(page, "grace")
    page.goto("/catalogue/blackouts")
    page.fill("#b-name", "Year-end close")
    page.fill("#b-start", "2026-12-30T00:00")
    page.fill("#b-end", "2027-01-02T00:00")
    page.select_option("#b-service", "finance")
    page.click("#blackout-form button[type=submit]")
    page.wait_for_selector("#blackouts-table tr[data-blackout]")
    row = page.inner_text("#blackouts-table tbody")
    assert "Year-end close" in row and "2026-12-30 00:00" in row and "finance" in row
    page.click(".who button")
    page.wait_for_selector("#username")
    sign_in(page, "bob")  # owns the donor CRM
    page.goto("/catalogue/services/donor-crm")
    assert page.locator("#s-tier").count() == 0  # the tier routes approvals: not his to change
    page.fill("#s-description", "Donor records, gifts and Gift Aid declarations")
    page.click("#service-form button[type=submit]")
    page.wait_for_selector(".flash >> text=saved")
    assert "Gift Aid declarations" in page.inner_text("#service-facts")
    page.goto("/catalogue/blackouts")
    assert page.locator("#blackout-form").count() == 0


def test_a_service_page_lists_its_standard_changes_and_raises_one(page: Any, live: Live) -> None:
    for name in ("change", "response"):
        deploy_process(live.db, name)
    demo_catalogue.seed(live.db)
    sign_in(page, "carol")
    page.goto("/catalogue/services/email")
    row = page.locator("#standard-changes tr[data-model=password_reset]")
    row.wait_for()
    assert "<= 1" in row.inner_text() and "standard_change v1" in row.locator(".model-source").inner_text()
    shot(page, "catalogue-standard-changes")
    row.locator("text=Raise a standard change").click()
    page.wait_for_selector("#start-form")
    assert page.input_value("#f-standard_model") == "password_reset"  # pre-filled by the model, nothing more
    assert page.locator("#f-standard_model option[value=add_to_group]").count() == 1  # a picker of the table's
    assert page.input_value("#f-service") == "email"
    page.fill("#f-title", "Unlock Pat's mailbox")
    page.fill("#f-description", "Locked after too many attempts")
    page.fill("#f-estimated_hours", "1")
    page.fill("#f-users_affected", "1")
    page.fill("#f-change_window_start", "2026-12-05T22:00")
    page.fill("#f-change_window_end", "2026-12-05T22:30")
    page.fill("#f-backout_plan", "none needed")
    page.click("#start-form button[type=submit]")
    page.wait_for_selector(".flash >> text=raised")
    key = page.inner_text(".flash").split()[0]
    with unit_of_work(live.db, readonly=True) as uow:
        data = json.loads(instances.find(uow, ADMIN, key).data_json or "{}")
    assert (data["standard_model"], data["standard_match"], data["change_class"]) == (
        "password_reset", True, "standard")  # classed by the server from the facts
    page.goto("/catalogue/services/donor-crm")
    page.wait_for_selector("#standard-changes-none")


def test_a_person_makes_and_revokes_a_calendar_feed_link(page: Any, live: Live) -> None:
    first, _ = setup(live)
    sign_in(page, "carol")
    page.goto("/changes/calendar?view=week&date=2026-12-03")
    assert "no feed link" in page.inner_text("#feed-status")
    page.click("#feed-create")
    url = page.input_value("#feed-url")
    assert "/api/v1/changes/calendar.ics?token=" in url
    # What a calendar app does: fetch the link with no session and no header.
    with urllib.request.urlopen(url + "&from=2026-12-01T00:00:00Z&to=2026-12-31T00:00:00Z") as resp:
        assert resp.status == 200 and f"UID:{first}@itsmflow" in resp.read().decode()
    page.goto("/changes/calendar")
    assert "You have a feed link" in page.inner_text("#feed-status")
    page.click("#feed-revoke")
    page.wait_for_selector(".flash >> text=revoked")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url)
    assert refused.value.code == 401
