"""Record and task pages as people read them: the forms' labels instead of variable names, option names,
durations and times in words, no raw JSON for staff and requesters; admins and auditors keep a raw view."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from engine.db.database import Database
from engine.services import admin, instances
from tests.conftest import ADMIN, ALICE, IVAN
from tests.web.conftest import sign_in
from tests.web.support import INCIDENT, open_task, work


def _record(db: Database) -> str:
    key = instances.start(db, IVAN, "response", {"summary": "Printer jams"}).business_key
    work(db, ALICE, key, "record", {**INCIDENT, "query_type": "incident"})
    # Values of every shape (a duration, a list, a mapping) that no start form gives: an administrator's edit.
    admin.edit_data(db, ADMIN, key, {"respond_target": "PT15M", "tags": ["floor-3", "printer"],
                                     "contact": {"phone": "1234", "prefers_mail": True}}, "values of every shape")
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



def test_one_roles_note_is_never_offered_in_anothers_field(client: FlaskClient, ui_db: Database) -> None:
    from tests.bpmn_snippets import chain, field, user_task
    from tests.support import deploy_xml

    fields = field("note") + field("impact", "enum", values='<camunda:value id="high" name="High"/>'
                                   '<camunda:value id="low" name="Low"/>')
    deploy_xml(ui_db, chain("handover", [user_task(0, "service_desk", fields, name="Record"),
                                         user_task(1, "resolver", fields, name="Resolve")]))
    key = instances.start(ui_db, IVAN, "handover", {"note": "raised from the portal"}).business_key
    first = open_task(ui_db, key, "n0")
    sign_in(client, "alice")
    html = client.get(f"/tasks/{first['id']}").get_data(as_text=True)
    assert 'value="raised from the portal"' in html  # start data is offered to the first step
    work(ui_db, ALICE, key, "n0", {"note": "desk: user called twice", "impact": "high"})
    second = open_task(ui_db, key, "n1")
    sign_in(client, "bob")
    html = client.get(f"/tasks/{second['id']}").get_data(as_text=True)
    form = html.split('id="task-form"')[1].split("</form>")[0]
    assert 'id="f-note" name="note"' in form and "desk: user called twice" not in form
    assert "desk: user called twice" in html  # still readable in the record's data beside the form
    assert '<option value="high" selected>' in form  # a choice is carried over, a note is not
