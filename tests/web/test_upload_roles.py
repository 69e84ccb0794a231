"""The upload page's default role: tasks a bpmn.io diagram names nobody for go to the role picked there, and the
page lists what it filled in as warnings."""

from __future__ import annotations

import io
import json

from flask.testing import FlaskClient

from engine.db.database import Database, unit_of_work
from engine.services import deploy
from tests.modellers.conftest import FIXTURES
from tests.web.conftest import sign_in


def test_upload_page_offers_the_default_role_and_lists_warnings(client: FlaskClient, ui_db: Database) -> None:
    token = sign_in(client, "grace")
    page = client.get("/processes/upload").get_data(as_text=True)
    assert '<option value="service_desk" selected>' in page
    data = {"csrf_token": token, "default_role": "resolver",
            "bpmn": (io.BytesIO((FIXTURES / "bpmnio_lanes.bpmn").read_bytes()), "order.bpmn"),
            "lanes": json.dumps({"Warehouse robot": "implementer"})}
    html = client.post("/processes/upload", data=data, content_type="multipart/form-data",
                       follow_redirects=True).get_data(as_text=True)
    assert "Deployed bpmnio_order version 1." in html
    assert "lane &#39;Clerk&#39; maps to no role; its tasks go to &#39;resolver&#39;" in html
    assert "Warning (line 22): the sequence flow from &#39;Task_Pack&#39; to &#39;Task_Ship&#39; has no id" in html
    with unit_of_work(ui_db, readonly=True) as uow:
        meta = json.loads(deploy.latest(uow, "bpmnio_order").meta_json)  # type: ignore[union-attr]
    assert meta["lanes"] == {"Clerk": "resolver", "Warehouse robot": "implementer"}
    assert meta["elements"]["Task_Pack"]["roles"] == ["resolver"]


def test_processes_page_shows_the_call_hierarchy(client: FlaskClient, ui_db: Database) -> None:
    token = sign_in(client, "grace")
    for name in ("call_child.bpmn", "call_parent.bpmn"):
        data = {"csrf_token": token, "bpmn": (io.BytesIO((FIXTURES / name).read_bytes()), name)}
        resp = client.post("/processes/upload", data=data, content_type="multipart/form-data")
        assert resp.status_code == 302, resp.get_data(as_text=True)
    html = client.get("/processes").get_data(as_text=True)
    assert ('Calls <a href="#process-c7_child"><code>c7_child</code></a> v1 from <code>CallActivity_1</code>'
            in html)
    assert 'Called by <a href="#process-c7_parent"><code>c7_parent</code></a> at <code>CallActivity_1</code>' in html
