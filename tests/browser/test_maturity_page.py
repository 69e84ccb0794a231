"""The governance page in a real browser: the process owner reads each practice's level and the evidence
behind it (counts and records), follows a record, and downloads the export."""

from __future__ import annotations

import json
from typing import Any

from tests.browser.conftest import Live, shot, sign_in
from tests.maturity_support import seed
from tests.support import deploy_process


def test_the_process_owner_reads_maturity_and_its_evidence(page: Any, live: Live) -> None:
    deploy_process(live.db, "response")
    keys = seed(live.db, deviations=1)
    sign_in(page, "grace")
    page.click("nav.main-nav >> text=Governance")
    page.fill("#from", "2026-03-01")
    page.fill("#to", "2026-03-31")
    page.click("#maturity-period button[type=submit]")
    row = page.locator("#maturity-summary tr[data-practice=response]")
    assert row.locator(".level").inner_text() == "2 Repeatable"
    assert row.locator(".crit-3").inner_text() == "✗ not met"
    followed = page.locator("#practice-response details[data-level='3']")
    assert followed.get_attribute("open") is not None  # the first level not reached is open
    assert "2 of 3 record(s) closed conform" in followed.inner_text()
    # the cadences the improvement process declares, with when each runs next
    assert page.locator("#cadences tr[data-cadence]").count() == 2
    assert page.inner_text("#cadences tr[data-cadence=service_review] td:nth-child(3)") == "R/2026-01-05T09:00:00Z/P1M"
    shot(page, "governance-maturity", full_page=True)
    followed.locator(f"a:text('{keys['response'][0]}')").click()
    page.wait_for_url(f"**/records/{keys['response'][0]}")

    page.go_back()
    with page.expect_download() as download:
        page.click("#maturity-json")
    exported = json.loads(download.value.path().read_text())
    assert {p["practice"]: p["level"] for p in exported["practices"]}["response"] == 2

    page.goto("/governance?from=2026-13-01")  # no such date: said beside the form, no error page
    assert "must be a date" in page.inner_text("#maturity-problem")
