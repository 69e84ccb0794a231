"""The conversation on the record page, downloads, and the notification pages, through the test client."""

from __future__ import annotations

import io

from flask.testing import FlaskClient

from engine.db.database import Database
from engine.services import conversation, instances
from tests.conftest import ALICE, IVAN
from tests.web.conftest import sign_in


def _record(db: Database) -> str:
    return instances.start(db, IVAN, "response", {"summary": "Printer jams"}).business_key


def test_comment_with_a_file_and_an_internal_note(client: FlaskClient, ui_db: Database) -> None:
    key = _record(ui_db)
    token = sign_in(client, "alice")
    resp = client.post(f"/records/{key}/comments", data={
        "csrf_token": token, "body": "Jam cleared; roller worn", "visibility": "internal",
        "files": [(io.BytesIO(b"roller photo"), "roller.png")]}, content_type="multipart/form-data")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/records/{key}#conversation")
    client.post(f"/records/{key}/comments", data={"csrf_token": token, "body": "We replace the roller today"})
    html = client.get(f"/records/{key}").get_data(as_text=True)
    assert "Jam cleared; roller worn" in html and "internal note" in html and "roller.png" in html
    assert 'name="visibility" value="internal"' in html

    token = sign_in(client, "ivan")
    html = client.get(f"/records/{key}").get_data(as_text=True)
    assert "We replace the roller today" in html
    assert "Jam cleared" not in html and "roller.png" not in html  # not in the conversation nor the timeline
    assert 'value="internal"' not in html
    resp = client.post(f"/records/{key}/comments", data={"csrf_token": token, "body": "hidden?",
                                                          "visibility": "internal"})
    assert resp.status_code == 403
    bad = client.post(f"/records/{key}/comments", data={"csrf_token": token, "body": "",
                                                        "files": [(io.BytesIO(b"MZ"), "x.exe")]},
                      content_type="multipart/form-data", follow_redirects=True)
    assert bad.status_code == 200 and "Not added: files of type .exe are not accepted" in bad.get_data(as_text=True)
    assert client.post(f"/records/{key}/comments", data={"body": "no token"}).status_code == 403


def test_download_only_for_those_who_see_the_record(client: FlaskClient, ui_db: Database) -> None:
    key = _record(ui_db)
    att = conversation.add_attachment(ui_db, IVAN, key, "screen.png", b"\x89PNG fake")
    note = conversation.add_attachment(ui_db, ALICE, key, "internal.txt", b"desk only", "internal")
    sign_in(client, "ivan")
    got = client.get(f"/records/{key}/attachments/{att['id']}")
    assert got.status_code == 200 and got.data == b"\x89PNG fake" and got.mimetype == "image/png"
    assert client.get(f"/records/{key}/attachments/{note['id']}").status_code == 404
    sign_in(client, "bob")
    assert client.get(f"/records/{key}/attachments/{note['id']}").data == b"desk only"
    client.get("/logout")
    with client.session_transaction() as s:
        s.clear()
    assert client.get(f"/records/{key}/attachments/{att['id']}").status_code == 302  # to sign in


def test_notification_page_marks_read_and_saves_preferences(client: FlaskClient, ui_db: Database) -> None:
    key = _record(ui_db)
    conversation.add_comment(ui_db, ALICE, key, "Can you send a photo of the error?")
    token = sign_in(client, "ivan")
    html = client.get("/inbox").get_data(as_text=True)
    assert 'class="notes-count">1<' in html
    html = client.get("/notifications").get_data(as_text=True)
    assert f"[{key}] New comment on {key}" in html
    note_id = html.split('data-id="')[1].split('"')[0]
    resp = client.post("/notifications/read", data={"csrf_token": token, "id": note_id, "open": f"/records/{key}"})
    assert resp.headers["Location"].endswith(f"/records/{key}")
    assert "notes-count" not in client.get("/notifications").get_data(as_text=True)
    evil = client.post("/notifications/read", data={"csrf_token": token, "open": "https://evil.example/"})
    assert evil.headers["Location"].endswith("/notifications")
    client.post("/notifications/preferences", data={"csrf_token": token, "comment_added-email": "on"})
    conversation.add_comment(ui_db, ALICE, key, "Still there?")
    assert "notes-count" not in client.get("/notifications").get_data(as_text=True)  # in-app switched off
    html = client.get("/notifications").get_data(as_text=True)
    assert 'id="comment_added-in_app">' in html and 'id="comment_added-email" checked' in html


def test_templates_page_for_admins(client: FlaskClient, ui_db: Database) -> None:
    sign_in(client, "alice")
    assert client.get("/notifications/templates").status_code == 403
    token = sign_in(client, "admin")
    assert "A task is assigned to you" in client.get("/notifications/templates").get_data(as_text=True)
    bad = client.post("/notifications/templates", data={"csrf_token": token, "kind": "task_assigned",
                                                        "subject": "", "body": "text"})
    assert bad.status_code == 422 and "Subject is required" in bad.get_data(as_text=True)
    ok = client.post("/notifications/templates", data={"csrf_token": token, "kind": "task_assigned",
                                                       "subject": "Yours: $task", "body": "See $link"})
    assert ok.status_code == 302
    assert 'value="Yours: $task"' in client.get("/notifications/templates").get_data(as_text=True)


def test_mail_in_page_decides_held_mail(client: FlaskClient, ui_db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from engine.services import mail_in
    from tests.integration.test_mail_in import mail

    key = _record(ui_db)
    monkeypatch.setenv("ITSMFLOW_MAILIN_PROCESS", "response")
    first = mail_in.receive(ui_db, mail("a@partner.example", f"Re: [{key}] thanks", "Works now"), [])
    second = mail_in.receive(ui_db, mail("b@partner.example", "Spam", "Buy"), [])
    sign_in(client, "bob")
    assert client.get("/mail-in").status_code == 403
    token = sign_in(client, "alice")
    html = client.get("/mail-in").get_data(as_text=True)
    assert "a@partner.example" in html and f'value="{key}"' in html and ">Mail in<" in html
    resp = client.post(f"/mail-in/{first['id']}", data={"csrf_token": token, "decision": "comment",
                                                        "business_key": key}, follow_redirects=True)
    assert f"Mail from a@partner.example added to {key}" in resp.get_data(as_text=True)
    resp = client.post(f"/mail-in/{second['id']}", data={"csrf_token": token, "decision": "reject"},
                       follow_redirects=True)
    assert "rejected" in resp.get_data(as_text=True) and "No mail waits" in resp.get_data(as_text=True)
    again = client.post(f"/mail-in/{second['id']}", data={"csrf_token": token, "decision": "raise"},
                        follow_redirects=True)
    assert "already decided" in again.get_data(as_text=True)
