"""The service desk's day in a real browser: sign in, raise an incident, claim and complete it through the
generated forms (resolver and requester steps included), and a long form whose validation error keeps every
value."""

from __future__ import annotations

import re
from typing import Any

from engine.services import instances
from tests.browser.conftest import Live, shot, sign_in, sign_out
from tests.conftest import ALICE, IVAN
from tests.web.support import INCIDENT, open_task, work


def _complete(page: Any) -> None:
    page.click("#task-form button[type=submit]")
    page.wait_for_load_state("domcontentloaded")


def test_alice_raises_claims_and_completes_an_incident(page: Any, live: Live) -> None:
    for summary in ("VPN drops every hour", "Payroll report is empty", "New starter needs a laptop"):
        key = instances.start(live.db, IVAN, "response", {"summary": summary}).business_key
        if summary.startswith("Payroll"):
            work(live.db, ALICE, key, "record", {**INCIDENT, "summary": summary, "impact": "high", "urgency": "high"})

    page.goto("/")
    page.wait_for_selector("#username")
    shot(page, "login")
    sign_in(page, "alice")
    assert page.url.endswith("/inbox")
    assert page.locator("#inbox-table tbody tr").count() == 2  # the two unrecorded records wait for the desk

    page.click("text=Raise an incident")
    page.fill("#f-summary", "Email bounces for the finance team")
    page.fill("#f-service", "email")
    page.fill("#f-description", "Since 09:00 every mail to finance@ bounces.")
    page.select_option("#f-impact", "high")
    page.select_option("#f-urgency", "high")
    page.click("#start-form button[type=submit]")

    # The desk's own next step opens directly: Record and classify, prefilled from what was raised.
    page.wait_for_selector("h1:has-text('Record and classify')")
    assert page.input_value("#f-summary") == "Email bounces for the finance team"
    assert page.input_value("#f-impact") == "high"
    key = page.locator(".crumbs a").nth(1).inner_text()
    assert re.fullmatch(r"INC-\d{6}", key)
    page.click("button:has-text('Claim')")
    page.wait_for_selector("#assignee:has-text('alice')")
    shot(page, "task-form")
    _complete(page)
    page.wait_for_selector(".flash-ok")
    assert f"Done: {key}" in page.inner_text(".flash-ok")

    page.goto("/inbox?tab=all")
    row = page.locator(f"#inbox-table tr[data-business-key='{key}']")
    assert "P1" in row.inner_text()  # the priority table ran: high impact, high urgency
    sign_out(page)

    sign_in(page, "bob")  # the resolver restores service
    page.click(f"#inbox-table tr[data-business-key='{key}'] button:has-text('Claim')")
    page.wait_for_selector("h1:has-text('Restore service')")
    page.fill("#f-resolution", "Fixed the MX record")
    _complete(page)
    page.wait_for_selector(".flash-ok")
    sign_out(page)

    sign_in(page, "alice")  # the user confirms (requester lane), then the desk closes: one flow of pages
    page.goto(f"/tasks/{open_task(live.db, key, 'confirm')['id']}")
    page.check("#f-user_confirmed input[value=true]")
    _complete(page)
    page.wait_for_selector("h1:has-text('Close the record')")
    page.fill("#f-closure_note", "Confirmed by the finance team")
    _complete(page)
    page.goto(f"/records/{key}")
    assert page.inner_text(".page-head .status") == "completed"


def test_validation_error_keeps_every_value(page: Any, live: Live) -> None:
    live.expected += ["HTTP 422 for POST", "status of 422"]  # the refused form post itself
    key = instances.start(live.db, IVAN, "long_form", {}).business_key
    task = open_task(live.db, key, "fill")
    sign_in(page, "alice")
    page.goto(f"/tasks/{task['id']}")
    assert page.input_value("#f-seats") == "1"  # the default
    assert page.input_value("#f-channel") == "phone"
    page.fill("#f-title", "Replace the switch in room 4")
    page.fill("#f-description", "Two ports are dead.\nThe uplink flaps.")
    page.fill("#f-hours", "three")  # not a number: refused by the server
    page.check("#f-urgent input[value=true]")
    page.fill("#f-due_on", "2026-12-24")
    page.select_option("#f-category", "network")
    page.select_option("#f-channel", "portal")
    page.fill("#f-contact", "Al")  # too short
    page.fill("#f-seats", "4")
    page.click("#task-form button[type=submit]")

    page.wait_for_selector("#error-summary")
    assert page.locator(".field.has-error").count() == 2
    assert "Hours must be a whole number" in page.inner_text("[data-field=hours] .field-error")
    assert "Contact must be at least 3 characters" in page.inner_text("[data-field=contact] .field-error")
    assert page.evaluate("document.activeElement.id") == "f-hours"  # focus goes to the first problem
    assert page.input_value("#f-title") == "Replace the switch in room 4"
    assert page.input_value("#f-description") == "Two ports are dead.\nThe uplink flaps."
    assert page.input_value("#f-hours") == "three"
    assert page.is_checked("#f-urgent input[value=true]")
    assert page.input_value("#f-due_on") == "2026-12-24"
    assert page.input_value("#f-category") == "network"
    assert page.input_value("#f-channel") == "portal"
    assert page.input_value("#f-contact") == "Al"
    assert page.input_value("#f-seats") == "4"
    assert page.inner_text("#f-reference") == "REF-1"
    shot(page, "task-form-errors", full_page=True)

    page.fill("#f-hours", "3")
    page.fill("#f-contact", "Alice at the desk")
    page.click("#task-form button[type=submit]")
    page.wait_for_selector(".flash-ok")
    assert "completed" in page.inner_text(".flash-ok")
