"""An administrator taking an approval that is not offered to them must say why, in the page as in the API
(issue 11): the task page asks for a reason, the server refuses the claim without one, and with one the trail
shows the admin.claimed event with the reason."""

from __future__ import annotations

from typing import Any

from engine.services import instances
from tests.api.test_idempotency_admin_acts import APPROVAL
from tests.bpmn_snippets import chain
from tests.browser.conftest import Live, sign_in
from tests.conftest import IVAN
from tests.support import deploy_xml, open_tasks

REASON = "CAB unreachable during the P1 outage"


def _claim(page: Any) -> None:
    page.click("#claim-reason ~ button[type=submit]")
    page.wait_for_load_state("domcontentloaded")


def test_an_admin_claims_an_approval_only_with_a_reason(page: Any, live: Live) -> None:
    deploy_xml(live.db, chain("approve", [APPROVAL]))
    key = instances.start(live.db, IVAN, "approve", {}).business_key
    (task,) = open_tasks(live.db, key)
    sign_in(page, "admin")
    page.goto(f"/tasks/{task['id']}")
    page.wait_for_selector("h1:has-text('Approve the change')")
    assert page.get_attribute("#claim-reason", "required") is not None

    _claim(page)  # empty: the browser does not send it
    assert page.input_value("#claim-reason") == "" and page.inner_text("#assignee") == "nobody yet"

    # Past the browser's check (a hand-made post, an old page): the server refuses it and says why.
    page.evaluate("document.getElementById('claim-reason').removeAttribute('required')")
    _claim(page)
    page.wait_for_selector(".flash-error")
    assert "must give a reason" in page.inner_text(".flash-error")
    assert page.inner_text("#assignee") == "nobody yet"
    assert open_tasks(live.db, key)[0]["assignee"] is None

    page.fill("#claim-reason", REASON)
    _claim(page)
    page.wait_for_selector("#assignee:has-text('admin')")
    assert page.locator("#claim-reason").count() == 0  # held now: nothing more to claim
    entry = page.locator(".timeline .ev-admin-claimed")
    assert entry.count() == 1 and "admin" in entry.locator(".ev-actor").inner_text()
    entry.locator("summary").click()  # the event's data
    assert REASON in entry.inner_text()
