"""Auditors and managers in a real browser: the path an instance took, marked on its diagram; the timeline with
decision evidence; the audit trail with its integrity badge, filters and export; the dashboard."""

from __future__ import annotations

from typing import Any

from engine.services import instances
from tests.browser.conftest import Live, shot, sign_in, sign_out
from tests.conftest import ALICE, IVAN
from tests.web.support import INCIDENT, closed_incident, seed_history, work

FLOWS = {"flow_start_record", "flow_record_prioritise", "flow_prioritise_restore", "flow_restore_confirm",
         "flow_confirm_gateway", "flow_confirmed", "flow_not_confirmed", "flow_close_end"}


def _marked(page: Any, selector: str) -> set[str]:
    return set(page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.elementId)"))


def test_heidi_finds_the_taken_path_highlighted(page: Any, live: Live) -> None:
    done = closed_incident(live.db)
    reworked = closed_incident(live.db, rework=True)
    waiting = instances.start(live.db, IVAN, "response", {}).business_key
    work(live.db, ALICE, waiting, "record", INCIDENT)

    sign_in(page, "heidi")
    assert page.url.endswith("/audit")
    assert "Trail intact" in page.inner_text("#integrity")

    page.goto(f"/records/{done}")
    page.wait_for_selector("#diagram[data-ready=true]")
    assert _marked(page, "g.djs-element.djs-shape.itsm-completed") == {
        "start", "record", "prioritise", "restore", "confirm", "confirmed_gateway", "close", "end"}
    assert _marked(page, "g.djs-connection.itsm-taken") == FLOWS - {"flow_not_confirmed"}
    assert _marked(page, ".itsm-active") == set()
    # The marker classes are styled: a taken flow is drawn green and thick, an untaken one is not.
    stroke = "el => getComputedStyle(el.querySelector('.djs-visual > path')).stroke"
    assert page.eval_on_selector("g[data-element-id=flow_confirmed]", stroke) == "rgb(30, 122, 61)"
    assert page.eval_on_selector("g[data-element-id=flow_not_confirmed]", stroke) != "rgb(30, 122, 61)"
    timeline = page.inner_text(".timeline")
    assert "priority_r2" in timeline  # decision evidence: the matched rule of the priority table
    assert "rule priority_r2 of priority v1 matched" in timeline
    shot(page, "instance-path")
    page.click(".timeline .ev-decision-evaluated")  # an event shows its element in the diagram
    assert _marked(page, ".itsm-focus") == {"prioritise"}

    page.goto(f"/records/{reworked}")
    page.wait_for_selector("#diagram[data-ready=true]")
    assert "flow_not_confirmed" in _marked(page, "g.djs-connection.itsm-taken")
    assert page.inner_text(".djs-overlay .itsm-count >> nth=0") == "×2"

    page.goto(f"/records/{waiting}")
    page.wait_for_selector("#diagram[data-ready=true]")
    assert _marked(page, ".itsm-active") == {"restore"}
    assert "waiting at Restore service" in page.inner_text("#diagram-status")


def test_heidi_filters_and_exports_the_trail(page: Any, live: Live) -> None:
    closed_incident(live.db)
    sign_in(page, "heidi")
    page.fill("#actor-f", "bob")
    page.click("#trail-filter button[type=submit]")
    page.wait_for_url("**actor=bob**")
    actors = page.eval_on_selector_all("#trail-table tbody tr td:nth-child(3)", "tds => tds.map(t => t.innerText)")
    assert actors and set(actors) == {"bob"}
    with page.expect_download() as download:
        page.click("#export-csv")
    lines = download.value.path().read_text().strip().splitlines()
    assert lines[0].startswith("seq,at,actor,type,instance_id,business_key")
    assert len(lines) == len(actors) + 1
    assert all(",bob," in line for line in lines[1:])


def test_dashboard_measures(page: Any, live: Live) -> None:
    seeded = seed_history(live.db)
    sign_in(page, "carol")
    page.goto("/dashboard")
    assert page.inner_text("#m-overdue") == "2"  # the escalated task stays late after its timer fired
    assert page.inner_text("#m-escalations") == "1"
    assert page.inner_text("#m-resolve") != "—"
    assert page.locator("svg.chart").count() >= 3
    assert page.locator("svg.chart-bars .bar-P4 rect.bar").count() == 1
    shot(page, "dashboard", full_page=True)

    sign_out(page)
    sign_in(page, "alice")
    page.click(".tabs a:has-text('All open')")
    row = page.locator(f"#inbox-table tr[data-business-key='{seeded['overdue']}']")
    assert "Overdue" in row.inner_text()
    keys = page.eval_on_selector_all("#inbox-table tbody tr", "els => els.map(e => e.dataset.businessKey)")
    assert keys[:2] == [seeded["escalated"], seeded["overdue"]]  # most overdue first
    priorities = page.eval_on_selector_all("#inbox-table tbody .prio", "els => els.map(e => e.innerText)")
    assert priorities[2:] == sorted(priorities[2:], key=lambda p: (p == "—", p))  # then by priority
    shot(page, "inbox")
