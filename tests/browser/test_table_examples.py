"""A process owner edits the priority table together with its examples in the browser: a changed rule breaks an
example, which says why; the example is changed to match, another is added from the preview, one is removed,
and table and examples deploy as one version."""

from __future__ import annotations

import json
from typing import Any

from engine.db.database import unit_of_work
from engine.services import decisions
from tests.browser.conftest import Live, shot, sign_in
from tests.browser.test_owners import EDIT_CELL


def summary(page: Any, text: str) -> None:
    page.wait_for_selector(f"#examples-summary:has-text('{text}')")


def cell(page: Any, number: int, kind: str, column: str) -> Any:
    return page.locator(f"#examples-body tr[data-example='{number}'] input[data-kind={kind}][data-column={column}]")


def status(page: Any, number: int) -> str:
    return str(page.inner_text(f"#examples-body tr[data-example='{number}'] .example-status"))


def test_grace_edits_the_priority_table_with_its_examples(page: Any, live: Live) -> None:
    sign_in(page, "grace")
    page.goto("/processes")
    page.click("#decision-priority a:has-text('Edit table')")
    page.wait_for_selector("#dmn-root[data-ready=true]")
    summary(page, "9 of 9 pass")
    assert page.locator("#examples-body tr").count() == 9
    assert cell(page, 5, "input", "impact").input_value() == "medium"
    assert cell(page, 5, "expected", "priority").input_value() == "P3"
    assert "priority_r5" in status(page, 5)

    # Medium impact and urgency become P2: the table's own example 5 now fails, and says why.
    page.evaluate(EDIT_CELL, ["priority_r5", '"P2"'])
    summary(page, "8 of 9 pass, 1 fail")
    assert 'expected priority="P3", got "P2"' in status(page, 5)
    assert page.locator("td.dmn-problem-cell[data-row-id=priority_r5]").count() > 0

    cell(page, 5, "expected", "priority").fill("P2")
    summary(page, "9 of 9 pass")
    assert page.locator("td.dmn-problem-cell").count() == 0

    # The preview answers from the edited table; its answer is kept as a new example.
    page.fill("#preview-fields input[data-column=impact]", "medium")
    page.fill("#preview-fields input[data-column=urgency]", "medium")
    page.click("#btn-preview-run")
    page.wait_for_selector("#preview-outputs")
    assert page.inner_text("#preview-outputs") == "priority = P2"
    assert page.inner_text("#preview-matched") == "rule priority_r5"
    page.click("#btn-preview-keep")
    summary(page, "10 of 10 pass")
    assert cell(page, 10, "expected", "priority").input_value() == "P2"

    # One is removed; one is added by hand, first wrong, then right.
    page.click("button[aria-label='remove example 3']")
    summary(page, "9 of 9 pass")
    page.click("#btn-add-example")
    cell(page, 10, "input", "impact").fill("low")
    cell(page, 10, "input", "urgency").fill("low")
    cell(page, 10, "expected", "priority").fill("P1")
    summary(page, "9 of 10 pass, 1 fail")
    assert 'got "P4"' in status(page, 10)
    cell(page, 10, "expected", "priority").fill("P4")
    cell(page, 10, "input", "impact").press("Tab")
    summary(page, "10 of 10 pass")
    shot(page, "decision-table-examples")

    page.fill("#deploy-comment", "Medium impact and urgency is P2")
    page.click("#btn-deploy")
    page.wait_for_selector("#editor-status.is-ok")
    assert "version 2" in page.inner_text("#editor-status")
    assert page.inner_text("#version-label") == "editing v2"

    with unit_of_work(live.db, readonly=True) as uow:
        row = decisions.get_version(uow, "priority", 2)
        stored = json.loads(row.tests_json)
        assert '<text>"P2"</text>' in row.dmn_xml.split('id="priority_r5_priority"')[1][:40]
        assert row.comment == "Medium impact and urgency is P2"
    assert len(stored) == 10
    assert [(c["inputs"], c["expected"]) for c in stored[-3:]] == [
        ({"impact": "low", "urgency": "low"}, {"priority": "P4"}),  # the shipped ninth, now eighth
        ({"impact": "medium", "urgency": "medium"}, {"priority": "P2"}),
        ({"impact": "low", "urgency": "low"}, {"priority": "P4"}),
    ]
    assert stored[3]["expected"] == {"priority": "P2"}  # the shipped fifth, after the third was removed
    assert all(c["inputs"] != {"impact": "high", "urgency": "low"} for c in stored)

    # Reopened, the editor shows the deployed examples.
    page.reload()
    page.wait_for_selector("#dmn-root[data-ready=true]")
    summary(page, "10 of 10 pass")
