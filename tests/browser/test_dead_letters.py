"""The dead-letter page in a real browser: an administrator discards one message and redelivers another, each
with a reason that lands in the sending record's trail."""

from __future__ import annotations

from typing import Any

import pytest

from engine.db.database import unit_of_work
from engine.services import audit, instances
from tests.browser.conftest import Live, shot, sign_in
from tests.conftest import ADMIN
from tests.integration.test_timers_messages import PING_PONG
from tests.support import deploy_xml


def _trail_types(live: Live, key: str) -> list[str]:
    with unit_of_work(live.db) as uow:
        return [e.type for e in audit.instance_events(uow, instances.find(uow, ADMIN, key).id)]


def test_an_admin_discards_and_redelivers_dead_letters(page: Any, live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITSMFLOW_MESSAGE_MAX_ATTEMPTS", "1")  # the first attempt is the last: dead at once
    deploy_xml(live.db, PING_PONG["caller"])
    first = instances.start(live.db, ADMIN, "caller", {"topic": "vpn"}).business_key
    second = instances.start(live.db, ADMIN, "caller", {"topic": "printer"}).business_key
    deploy_xml(live.db, PING_PONG["helper"])  # the second one's receiver exists now

    sign_in(page, "admin")
    page.click("nav.main-nav >> text=Dead letters")
    page.wait_for_selector("#dead-letters")
    rows = page.locator("#dead-letters tbody tr")
    assert rows.count() == 2
    assert "no record waits for it" not in page.inner_text("#dead-letters")  # no key: nothing started on it
    assert "no process starts on it" in page.inner_text("#dead-letters")
    shot(page, "dead-letters")

    row = page.locator(f"#dead-letters tr:has(a:text('{first}'))")
    row.locator("button:has-text('Discard')").click()  # no reason: the browser keeps the form
    assert page.locator("#dead-letters tbody tr").count() == 2 and not page.locator(".flash").count()
    row.locator("input[name=reason]").fill("the caller was a test record")
    row.locator("button:has-text('Discard')").click()
    page.wait_for_selector(".flash-ok")
    assert "discarded" in page.inner_text(".flash-ok")

    row = page.locator(f"#dead-letters tr:has(a:text('{second}'))")
    row.locator("input[name=reason]").fill("the helper process is deployed now")
    row.locator("button:has-text('Redeliver')").click()
    page.wait_for_selector(".flash-ok")
    assert "delivered" in page.inner_text(".flash-ok")
    assert page.locator(".empty-state").inner_text() == "No dead letters."
    assert "admin.message_discarded" in _trail_types(live, first)
    assert "admin.message_redelivered" in _trail_types(live, second)

    page.goto(f"/records/{first}")
    page.wait_for_selector(".ev-admin-message_discarded")
    assert "the caller was a test record" in page.inner_text(".ev-admin-message_discarded")
