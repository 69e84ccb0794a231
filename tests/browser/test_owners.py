"""Process owners in a real browser: the bpmn-js modeller with the Camunda properties panel opens the deployed
`response`, a user task is added, a refused deployment shows its problem on the element, the preview lists
the changes, the deploy makes version 2, and a new record runs on it. And the dmn-js table editor."""

from __future__ import annotations

from typing import Any

from engine.db.database import unit_of_work
from engine.services import instances
from tests.browser.conftest import Live, shot, sign_in
from tests.conftest import ALICE
from tests.web.support import INCIDENT, work

# bpmn-js's own API, as a script in the page would use it: a user task in the Resolver lane, between
# "Prioritise" and "Restore service".
ADD_TASK = """() => {
  const m = window.modeler;
  const registry = m.get('elementRegistry');
  const modeling = m.get('modeling');
  const pool = registry.get('response_participant');
  const task = modeling.createShape({ type: 'bpmn:UserTask' }, { x: 470, y: 285 }, pool);
  modeling.updateProperties(task, {
    id: 'kb_check', name: 'Check known errors', 'camunda:candidateGroups': 'wizards' });
  modeling.reconnectEnd(registry.get('flow_prioritise_restore'), task, { x: 470, y: 245 });
  modeling.connect(task, registry.get('restore'));
  m.get('selection').select(task);
}"""


def test_grace_adds_a_user_task_and_deploys_version_2(page: Any, live: Live) -> None:
    live.expected += ["HTTP 422 for POST", "status of 422"]  # the refused deployment
    sign_in(page, "grace")
    assert page.url.endswith("/processes")
    page.click("#process-response a:has-text('Edit in modeller')")
    page.wait_for_selector("#modeller-root[data-ready=true]")
    page.wait_for_selector("#properties .bio-properties-panel")
    assert page.locator("g.djs-element[data-element-id=restore]").count() == 1

    page.evaluate(ADD_TASK)
    page.wait_for_selector("#dirty-flag:not([hidden])")
    assert page.locator("#properties .bio-properties-panel-header-label").inner_text() == "Check known errors"

    page.click("#btn-deploy")  # lint first: nobody holds 'wizards'
    page.wait_for_selector("#deploy-dialog:not([hidden])")
    assert "wizards" in page.inner_text("#warning-list li[data-element-id=kb_check]")
    page.click("#btn-deploy-confirm")  # refused: 'wizards' is not a role
    page.wait_for_selector("#problems:not([hidden])")
    assert "wizards" in page.inner_text("#problem-list")
    assert page.locator("g.djs-element.itsm-problem[data-element-id=kb_check]").count() == 1
    assert "wizards" in page.inner_text(".djs-overlay .itsm-problem-badge")

    # Fixed in the properties panel, as a process owner would: User assignment > Candidate groups.
    page.click("[data-group-id='group-CamundaPlatform__UserAssignment'] .bio-properties-panel-group-header")
    groups = page.locator("#bio-properties-panel-candidateGroups")
    groups.fill("resolver")
    groups.press("Tab")
    assert page.evaluate("() => window.modeler.get('elementRegistry').get('kb_check')"
                         ".businessObject.get('camunda:candidateGroups')") == "resolver"

    page.click("#btn-preview")
    page.wait_for_selector("#preview:not([hidden])")
    assert "kb_check" in page.inner_text("#preview-body .diff-list.added")
    assert "flow_prioritise_restore" in page.inner_text("#preview-body .diff-list.changed")
    assert page.locator("g.djs-element.itsm-added[data-element-id=kb_check]").count() == 1
    page.evaluate("() => window.modeler.get('canvas').zoom('fit-viewport')")
    shot(page, "modeller")

    page.click("#btn-preview-deploy")
    page.wait_for_selector("#deploy-dialog:not([hidden])")
    assert page.is_visible("#no-warnings")
    page.fill("#deploy-comment", "Check known errors before restoring")
    page.click("#btn-deploy-confirm")
    page.wait_for_selector("#editor-status.is-ok")
    assert "version 2" in page.inner_text("#editor-status")
    assert page.inner_text("#btn-deploy") == "Deploy as v3…"
    assert page.inner_text("#version-label") == "editing v2"

    # A new record runs on version 2 and reaches the new task.
    page.goto("/new/incident")
    page.fill("#f-summary", "Laptop will not boot")
    page.fill("#f-service", "workplace")
    page.click("#start-form button[type=submit]")
    page.wait_for_selector(".flash-ok")
    assert "response v2" in page.inner_text(".flash-ok")
    key = page.inner_text("h1 .key")
    work(live.db, ALICE, key, "record", {**INCIDENT, "summary": "Laptop will not boot"})
    with unit_of_work(live.db) as uow:
        inst = instances.find(uow, ALICE, key)
        assert inst.version == 2
        assert [t.element_id for t in instances.tasks_of(uow, inst)] == ["kb_check"]


EDIT_CELL = """([rule, value]) => {
  const viewer = window.dmnModeler.getActiveViewer();
  const row = viewer.get('sheet').getRoot().rows.find((r) => r.id === rule);
  viewer.get('modeling').editCell(row.cells[row.cells.length - 1].businessObject, value);
}"""


def test_grace_edits_a_decision_table(page: Any, live: Live) -> None:
    live.expected += ["HTTP 422 for POST", "status of 422"]  # the refused table
    sign_in(page, "grace")
    page.goto("/processes")
    page.click("#decision-priority a:has-text('Edit table')")
    page.wait_for_selector("#dmn-root[data-ready=true]")
    assert page.locator("#canvas .tjs-table tbody tr").count() == 9  # the nine rules of the priority table

    page.evaluate(EDIT_CELL, ["priority_r1", '"P4"'])  # high/high as P4 breaks the table's own examples
    page.wait_for_selector("#dirty-flag:not([hidden])")
    page.click("#btn-deploy")
    page.wait_for_selector("#problems:not([hidden])")
    assert "priority_r1" in page.inner_text("#problem-list") or "P4" in page.inner_text("#problem-list")
    assert page.locator("td.dmn-problem-cell[data-row-id=priority_r1]").count() > 0

    page.evaluate(EDIT_CELL, ["priority_r1", '"P1"'])
    page.click("#btn-deploy")
    page.wait_for_selector("#editor-status.is-ok")
    assert "version 2" in page.inner_text("#editor-status")
    assert page.inner_text("#version-label") == "editing v2"
    shot(page, "decision-table")
