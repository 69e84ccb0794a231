"""Comments, attachments and notifications through the JSON API with bearer tokens, bad input included."""

from __future__ import annotations

import hashlib
import io

from tests.api.conftest import Api


def _error(resp, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, (resp.status_code, resp.data[:300])
    assert set(resp.json["error"]) == {"code", "message", "details"}
    return resp.json["error"]


def _record(api: Api) -> str:
    resp = api.post("/instances", "ivan", json={"process": "response", "data": {"summary": "Mail down"}})
    assert resp.status_code == 201
    return resp.json["business_key"]


def test_comments_public_and_internal(api: Api) -> None:
    key = _record(api)
    made = api.post(f"/instances/{key}/comments", "ivan", json={"body": "Since this morning"})
    assert made.status_code == 201 and made.json["visibility"] == "public" and made.json["source"] == "api"
    assert api.post(f"/instances/{key}/comments", "alice",
                    json={"body": "Check the relay", "visibility": "internal"}).status_code == 201
    _error(api.post(f"/instances/{key}/comments", "ivan", json={"body": "x", "visibility": "internal"}), 403)
    _error(api.post(f"/instances/{key}/comments", "ivan", json={"body": ""}), 400)
    _error(api.post(f"/instances/{key}/comments", "ivan", json={"body": ["not", "text"]}), 400)
    _error(api.post(f"/instances/{key}/comments", "ivan", json={"body": "x" * 20_001}), 400)
    _error(api.post(f"/instances/{key}/comments", "ivan", data="nope", content_type="application/json"), 400)
    _error(api.post("/instances/INC-999999/comments", "alice", json={"body": "x"}), 404)
    assert [c["body"] for c in api.get(f"/instances/{key}/comments", "ivan").json["comments"]] == ["Since this morning"]
    assert len(api.get(f"/instances/{key}/comments", "bob").json["comments"]) == 2
    audit = api.get(f"/instances/{key}/audit", "heidi").json["events"]
    assert [e["data"]["visibility"] for e in audit if e["type"] == "comment.added"] == ["public", "internal"]


def test_attachments_upload_download_and_limits(api: Api) -> None:
    key = _record(api)
    content = b"line 1\nline 2\n"
    resp = api.post(f"/instances/{key}/attachments", "ivan",
                    data={"file": (io.BytesIO(content), "trace.log")}, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.json
    att = resp.json
    assert att["sha256"] == hashlib.sha256(content).hexdigest() and att["content_type"] == "text/plain"
    got = api.get(f"/instances/{key}/attachments/{att['id']}", "ivan")
    assert got.status_code == 200 and got.data == content
    assert got.headers["Content-Disposition"].startswith('attachment; filename="trace.log"')
    assert got.headers["X-Content-SHA256"] == att["sha256"] and got.headers["X-Content-Type-Options"] == "nosniff"
    assert [a["id"] for a in api.get(f"/instances/{key}/attachments", "alice").json["attachments"]] == [att["id"]]
    _error(api.post(f"/instances/{key}/attachments", "ivan", data={}, content_type="multipart/form-data"), 400)
    _error(api.post(f"/instances/{key}/attachments", "ivan",
                    data={"file": (io.BytesIO(b"MZ"), "run.exe")}, content_type="multipart/form-data"), 400)
    _error(api.post(f"/instances/{key}/attachments", "ivan",
                    data={"file": (io.BytesIO(b"x" * (3 * 1024 * 1024 + 1)), "big.txt")},
                    content_type="multipart/form-data"), 413)
    _error(api.post(f"/instances/{key}/attachments", "ivan", json={"file": "not multipart"}), 400)
    _error(api.get(f"/instances/{key}/attachments/999999", "ivan"), 404)
    other = _record(api)
    _error(api.get(f"/instances/{other}/attachments/{att['id']}", "ivan"), 404)


def test_a_requester_cannot_read_another_requesters_files(api: Api) -> None:
    key = _record(api)
    resp = api.post(f"/instances/{key}/attachments", "ivan",
                    data={"file": (io.BytesIO(b"private"), "payslip.pdf")}, content_type="multipart/form-data")
    assert resp.status_code == 201
    from engine.services import users

    users.add_user(api.db, "mallory", "demo", ["requester"])
    _error(api.get(f"/instances/{key}/attachments/{resp.json['id']}", "mallory"), 403)
    _error(api.get(f"/instances/{key}/comments", "mallory"), 403)
    _error(api.post(f"/instances/{key}/comments", "mallory", json={"body": "hi"}), 403)


def test_notifications_preferences_and_templates(api: Api) -> None:
    key = _record(api)
    api.post(f"/instances/{key}/comments", "alice", json={"body": "We are on it"})
    listed = api.get("/notifications", "ivan").json
    assert listed["unread"] == 1 and listed["notifications"][0]["kind"] == "comment_added"
    assert listed["notifications"][0]["link"] == f"/records/{key}"
    assert api.post("/notifications/read", "ivan", json={}).json == {"marked": 1}
    assert api.get("/notifications?unread=1", "ivan").json["notifications"] == []
    _error(api.post("/notifications/read", "ivan", json={"ids": "all"}), 400)
    _error(api.post("/notifications/read", "ivan", json={"ids": ["x"]}), 400)

    prefs = api.call("PUT", "/notifications/preferences", "ivan",
                     json={"preferences": {"comment_added": {"in_app": False, "email": False}}}).json["preferences"]
    assert next(p for p in prefs if p["kind"] == "comment_added")["in_app"] is False
    _error(api.call("PUT", "/notifications/preferences", "ivan", json={"preferences": {"nope": {}}}), 400)
    _error(api.call("PUT", "/notifications/preferences", "ivan",
                    json={"preferences": {"comment_added": {"email": "yes"}}}), 400)
    _error(api.call("PUT", "/notifications/preferences", "ivan", json={"preferences": []}), 400)
    api.post(f"/instances/{key}/comments", "alice", json={"body": "Fixed?"})
    assert api.get("/notifications", "ivan").json["unread"] == 0

    _error(api.get("/notification-templates", "alice"), 403)
    _error(api.call("PUT", "/notification-templates/comment_added", "alice", json={"subject": "a", "body": "b"}), 403)
    _error(api.call("PUT", "/notification-templates/unknown", "admin", json={"subject": "a", "body": "b"}), 400)
    _error(api.call("PUT", "/notification-templates/comment_added", "admin", json={"subject": "only"}), 400)
    saved = api.call("PUT", "/notification-templates/comment_added", "admin",
                     json={"subject": "$author wrote", "body": "$comment"}).json
    assert saved["customised"] is True
    api.post(f"/instances/{key}/comments", "ivan", json={"body": "Yes, thanks"})  # the desk holds no task: nobody
    api.call("PUT", "/notifications/preferences", "ivan",
             json={"preferences": {"comment_added": {"in_app": True, "email": True}}})
    api.post(f"/instances/{key}/comments", "bob", json={"body": "Closing"})
    note = api.get("/notifications?unread=1", "ivan").json["notifications"][0]
    assert note["subject"] == f"[{key}] bob wrote" and note["body"] == "Closing"


def test_held_mail_through_the_api(api: Api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from engine.services import mail_in
    from tests.integration.test_mail_in import mail

    monkeypatch.setenv("ITSMFLOW_MAILIN_PROCESS", "response")
    held = mail_in.receive(api.db, mail("someone@partner.example", "Broken link on the portal", "see title"), [])
    assert held["status"] == "held"
    _error(api.get("/inbound-mail", "bob"), 403)
    [row] = api.get("/inbound-mail", "alice").json["mail"]
    assert row["from"] == "someone@partner.example" and row["reference"] is None
    _error(api.post(f"/inbound-mail/{row['id']}/decision", "alice", json={"decision": "later"}), 400)
    _error(api.post(f"/inbound-mail/{row['id']}/decision", "alice", json={}), 400)
    _error(api.post("/inbound-mail/99999/decision", "alice", json={"decision": "reject"}), 404)
    _error(api.post(f"/inbound-mail/{row['id']}/decision", "alice", data="x", content_type="application/json"), 400)
    done = api.post(f"/inbound-mail/{row['id']}/decision", "alice", json={"decision": "raise"})
    assert done.status_code == 200 and done.json["status"] == "raised"
    assert done.json["business_key"].startswith("INC-")
    assert api.get("/inbound-mail", "alice").json["mail"] == []
