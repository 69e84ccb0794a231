"""The SLA compliance report in a real browser: from the dashboard to the report, months chosen in the form,
the figures of tests/sla_support.py (worked out by hand), the breached records linked, the CSV downloaded."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Live, shot, sign_in
from tests.sla_support import seed
from tests.support import deploy_process


def test_the_desk_reads_sla_compliance_and_downloads_it(page: Any, live: Live) -> None:
    deploy_process(live.db, "response")
    keys = seed(live.db)
    sign_in(page, "alice")
    page.goto("/dashboard")
    page.click("#sla-report-link")
    page.fill("#from", "2026-03")
    page.fill("#to", "2026-04")
    page.click("#sla-filters button[type=submit]")
    page.wait_for_selector("#sla-totals")
    assert page.inner_text("#sla-totals tr[data-clock=respond] .compliance") == "60.0%"
    assert page.inner_text("#sla-totals tr[data-clock=resolve] .compliance") == "75.0%"
    row = page.locator('#sla-rows tr[data-key="2026-03|mail|P3|resolve"]')
    assert row.locator(".compliance").inner_text() == "0.0%"
    shot(page, "sla-report", full_page=True)
    row.locator(f"a:text('{keys['C']}')").click()
    page.wait_for_url(f"**/records/{keys['C']}")
    # the record's own clocks say the same: 25 open hours used of 24
    assert page.inner_text("#sla-clocks tr[data-clock=resolve] .result") == "breached"
    assert page.inner_text("#sla-clocks tr[data-clock=resolve] .elapsed") == "1d 1h (104.2 %)"
    assert page.inner_text("#sla-clocks tr[data-clock=respond] .result") == "met"

    page.go_back()
    with page.expect_download() as download:
        page.click("#sla-csv")
    lines = download.value.path().read_text().strip().splitlines()
    assert lines[0].startswith("month,service,priority,clock") and "2026-04,mail,P2,respond,1,0,1,0,0.0" in lines

    page.goto("/reports/sla?from=2026-13")  # a month that does not exist: said beside the form, no error page
    assert "must be a month like 2026-03" in page.inner_text("#sla-problem")
