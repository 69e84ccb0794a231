"""The accounts page in a real browser: an administrator gives a role and deactivates an account with a reason;
the person's open session and API token stop working at once and the trail has both acts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from sqlalchemy import select

from engine.db.database import unit_of_work
from engine.db.models import AuditEvent
from engine.services import users
from tests.browser.conftest import Live, shot, sign_in


def _status(live: Live, token: str) -> int:
    request = urllib.request.Request(f"{live.url}/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_an_admin_deactivates_an_account_with_a_reason(page: Any, browser: Any, live: Live) -> None:
    token = users.create_token(live.db, "bob")
    assert _status(live, token) == 200
    bob = browser.new_context(base_url=live.url).new_page()
    sign_in(bob, "bob")

    sign_in(page, "admin")
    page.click("nav.main-nav >> text=Accounts")
    page.wait_for_selector("#accounts")
    row = page.locator("#accounts tr[data-username=bob]")
    assert row.locator(".account-state").inner_text() == "active"
    assert page.locator("#accounts tr[data-username=admin] button:has-text('Deactivate')").is_disabled()

    row.locator("input[name=role][value=cab]").check()
    row.locator("input[name=reason]").fill("joins the change board")
    row.locator("button:has-text('Save roles')").click()
    page.wait_for_selector(".flash-ok")
    assert "cab" in page.inner_text(".flash-ok")

    page.goto("/admin/users")
    row = page.locator("#accounts tr[data-username=bob]")
    assert row.locator("input[name=role][value=cab]").is_checked()
    row.locator("button:has-text('Deactivate')").click()  # no reason: the browser keeps the form
    assert not page.locator(".flash").count()
    row.locator("input[name=reason]").fill("left the company")
    row.locator("button:has-text('Deactivate')").click()
    page.wait_for_selector(".flash-ok")
    assert "deactivated" in page.inner_text(".flash-ok")
    assert page.locator("#accounts tr[data-username=bob] .account-state").inner_text() == "deactivated"
    shot(page, "accounts")

    assert _status(live, token) == 401
    bob.goto("/inbox")
    bob.wait_for_selector("#username")  # the session ended: back to sign-in
    with unit_of_work(live.db) as uow:
        events = uow.session.execute(select(AuditEvent).where(AuditEvent.type.like("admin.%"))
                                     .order_by(AuditEvent.seq)).scalars().all()
        acts = [(e.type, e.actor, json.loads(e.data_json)["reason"]) for e in events]
    assert acts == [("admin.roles_changed", "admin", "joins the change board"),
                    ("admin.account_deactivated", "admin", "left the company")]
    bob.context.close()
