"""The service picker in the generated forms: a select of the catalogue's services, on a task form and on the
form that raises a record; the server still refuses a service the catalogue does not have."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from engine.db.database import Database
from engine.services import instances
from tests.catalogue.conftest import seed_catalogue
from tests.conftest import IVAN
from tests.web.conftest import sign_in
from tests.web.support import open_task


def _options(html: str, field: str) -> list[str]:
    select = re.search(rf'<select id="f-{field}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select for {field}"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def test_the_task_form_offers_the_catalogues_services(client: FlaskClient, ui_db: Database) -> None:
    key = instances.start(ui_db, IVAN, "response", {"summary": "CRM slow"}).business_key
    task = open_task(ui_db, key, "record")
    sign_in(client, "alice")
    html = client.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert re.search(r'<input id="f-service"[^>]*type="text"', html)  # no catalogue yet: free text
    seed_catalogue(ui_db)
    html = client.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert _options(html, "service") == ["", "donor-crm", "email", "file-shares"]
    assert "Donor CRM (tier 1 critical, donor-facing)" in html


def test_raising_a_record_with_the_picker(client: FlaskClient, ui_db: Database) -> None:
    seed_catalogue(ui_db)
    token = sign_in(client, "ivan")
    html = client.get("/new/incident").get_data(as_text=True)
    assert "donor-crm" in _options(html, "service")
    form = {"csrf_token": token, "summary": "Cannot log gifts", "impact": "high", "urgency": "medium"}
    refused = client.post("/new/incident", data={**form, "service": "telex"})
    assert refused.status_code == 422
    assert "no service" in refused.get_data(as_text=True)
    done = client.post("/new/incident", data={**form, "service": "donor-crm"})
    assert done.status_code == 302
