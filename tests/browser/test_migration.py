"""Done when (issue 13): migration's dry run and apply run on live instances, in the browser. Three incidents
wait at different steps of `response` v1; v2 drops "Restore service" (the resolvers now restore while confirming
with the user). The dry run shows the one waiting at the dropped step cannot move; the others move with a reason;
then an element map moves the last one too, and the records run on v2."""

from __future__ import annotations

import re
from typing import Any

from engine.services import instances, tasks
from tests.browser.conftest import Live, shot, sign_in
from tests.conftest import ALICE, BOB, IVAN
from tests.support import OWNER, deploy_xml, instance, task_ids
from tests.web.support import FIXTURES, INCIDENT, work


def without_restore() -> str:
    """The UI tests' response with the `restore` task taken out: prioritise leads straight to confirm."""
    xml = (FIXTURES / "response" / "response.bpmn").read_text()
    xml = re.sub(r'\s*<bpmn:userTask id="restore".*?</bpmn:userTask>', "", xml, flags=re.S)
    xml = xml.replace("<bpmn:flowNodeRef>restore</bpmn:flowNodeRef>", "")
    xml = re.sub(r'\s*<bpmn:sequenceFlow id="flow_restore_confirm"[^>]*/>', "", xml)
    xml = re.sub(r'\s*<bpmndi:BPMN(Shape|Edge) id="(restore|flow_restore_confirm)_di".*?</bpmndi:BPMN\1>', "", xml,
                 flags=re.S)
    xml = xml.replace('sourceRef="prioritise" targetRef="restore"', 'sourceRef="prioritise" targetRef="confirm"')
    return xml.replace('sourceRef="confirmed_gateway" targetRef="restore"',
                       'sourceRef="confirmed_gateway" targetRef="confirm"')


def test_dry_run_then_apply_on_live_instances(page: Any, live: Live) -> None:
    db = live.db
    at_record = instances.start(db, IVAN, "response", {"summary": "Printer"}).business_key
    at_restore = instances.start(db, IVAN, "response", {}).business_key
    work(db, ALICE, at_restore, "record", INCIDENT)
    tasks.claim(db, BOB, next(t for t in _open(db, at_restore) if t["element_id"] == "restore")["id"])
    at_confirm = instances.start(db, IVAN, "response", {}).business_key
    work(db, ALICE, at_confirm, "record", INCIDENT)
    work(db, BOB, at_confirm, "restore", {"resolution": "reseated the cable"})
    assert deploy_xml(db, without_restore(), key="response").version == 2

    sign_in(page, "grace")
    page.goto("/processes")
    page.click("#process-response a:has-text('Move running records')")
    assert page.input_value("#from") == "1" and page.input_value("#to") == "2"
    page.click("#dry-run-form button[type=submit]")
    page.wait_for_selector("#plan-table")
    assert "2 records can move, 1 cannot" in page.inner_text("#plan-summary").replace("\n", " ")
    blocked = page.inner_text(f"#plan-table tr[data-key='{at_restore}']")
    assert "restore (ready) has no counterpart in the target version" in blocked
    assert "confirm" in page.inner_text(f"#plan-table tr[data-key='{at_confirm}']")
    assert "same id" in page.inner_text(f"#plan-table tr[data-key='{at_confirm}']")
    shot(page, "migration-dry-run")

    page.fill("#reason", "Restoring moved into the confirmation step")
    page.click("#btn-apply")
    page.wait_for_selector("#result")
    assert "Moved 2 records to v2" in page.inner_text("#result-title")
    assert (instance(db, at_record)["version"], instance(db, at_confirm)["version"]) == (2, 2)
    assert instance(db, at_restore)["version"] == 1

    # The one left behind moves with an element map: its open task becomes the confirmation, bob's claim kept.
    page.fill("#map", "restore = confirm")
    page.select_option("#from", "1")
    page.select_option("#to", "2")
    page.click("#dry-run-form button[type=submit]")
    page.wait_for_selector("#plan-table")
    row = page.inner_text(f"#plan-table tr[data-key='{at_restore}']")
    assert "mapped" in row and "confirm" in row
    page.fill("#reason", "Restoring moved into the confirmation step")
    page.click("#btn-apply")
    page.wait_for_selector("#result")
    assert instance(db, at_restore)["version"] == 2
    assert task_ids(db, at_restore) == ["confirm"]

    # The moved records run on v2: recorded and prioritised, the next step is the confirmation.
    work(db, ALICE, at_record, "record", INCIDENT)
    assert task_ids(db, at_record) == ["confirm"]
    page.goto(f"/records/{at_record}")
    assert "instance.migrated" in page.inner_text(".timeline")


def _open(db: Any, key: str) -> list[dict[str, Any]]:
    from tests.support import open_tasks

    return open_tasks(db, key)


assert OWNER  # deploy_xml deploys as the process owner grace
