"""Record and task pages as people read them: the forms' labels instead of variable names, option names,
durations and times in words, no raw JSON for staff and requesters; admins and auditors keep a raw view."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from engine.db.database import Database
from engine.services import instances
from tests.conftest import ALICE, IVAN
from tests.web.conftest import sign_in
from tests.web.support import INCIDENT, open_task, work


def _record(db: Database) -> str:
    key = instances.start(db, IVAN, "response", {"summary": "Printer jams", "respond_target": "PT15M",
                                                 "tags": ["floor-3", "printer"],
                                                 "contact": {"phone": "1234", "prefers_mail": True}}).business_key
    work(db, ALICE, key, "record", {**INCIDENT, "query_type": "incident"})
    return key


def _data_section(html: str) -> str:
    return html.split('id="record-data"', 1)[1].split("</dl>", 1)[0]


def test_staff_read_labels_and_words_not_variables_and_json(client: FlaskClient, ui_db: Database) -> None:
    key = _record(ui_db)
    sign_in(client, "bob")
    html = client.get(f"/records/{key}").get_data(as_text=True)
    data = _data_section(html)
    assert "Type of query" in data and "query_type" not in data.split('data-field="query_type">')[1][:40]
    assert ">Incident<" in data  # the option's name
    assert "15 minutes" in data and "PT15M" not in data
    assert "floor-3, printer" in data
    assert "Phone: 1234; Prefers mail: yes" in data
    assert "{" not in data and "[" not in data
    assert 'id="raw-data"' not in html
    timeline = html.split('class="timeline"', 1)[1]
    assert "Respond target" in timeline and "respond_target" not in re.sub(r'data-[a-z-]+="[^"]*"', "", timeline)
    assert "<pre>" not in timeline

    task = open_task(ui_db, key, "restore")
    html = client.get(f"/tasks/{task['id']}").get_data(as_text=True)
    side = _data_section(html)
    assert "Type of query" in side and "15 minutes" in side and "{" not in side


def test_admins_and_auditors_keep_a_raw_view(client: FlaskClient, ui_db: Database) -> None:
    key = _record(ui_db)
    for who in ("admin", "heidi"):
        sign_in(client, who)
        html = client.get(f"/records/{key}").get_data(as_text=True)
        assert 'id="raw-data"' in html
        assert "respond_target" in html.split('id="raw-data"', 1)[1].split("</pre>", 1)[0]
    sign_in(client, "ivan")
    assert 'id="raw-data"' not in client.get(f"/records/{key}").get_data(as_text=True)

