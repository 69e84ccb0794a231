"""The upload page's lane-to-role step in a real browser: choosing a bpmn.io file lists its lanes with role
pickers; the owner's choices deploy as the lane mapping."""

from __future__ import annotations

import json
from typing import Any

from engine.db.database import unit_of_work
from engine.services import deploy
from tests.browser.conftest import Live, sign_in
from tests.modellers.conftest import FIXTURES


def test_owner_maps_lanes_to_roles_while_uploading(page: Any, live: Live) -> None:
    sign_in(page, "grace")
    page.goto("/processes/upload")
    page.set_input_files("#bpmn", str(FIXTURES / "bpmnio_lanes.bpmn"))
    page.wait_for_selector("#lane-step:not([hidden])")
    lanes = page.locator("#lane-step select[data-lane]")
    assert [lanes.nth(i).get_attribute("data-lane") for i in range(lanes.count())] == ["Clerk", "Warehouse robot"]
    page.select_option("#lane-step select[data-lane='Clerk']", "resolver")
    page.select_option("#lane-step select[data-lane='Warehouse robot']", "implementer")
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/processes#process-bpmnio_order")
    with unit_of_work(live.db, readonly=True) as uow:
        meta = json.loads(deploy.latest(uow, "bpmnio_order").meta_json)  # type: ignore[union-attr]
    assert meta["lanes"] == {"Clerk": "resolver", "Warehouse robot": "implementer"}
    assert meta["elements"]["Task_Pack"]["roles"] == ["resolver"]
