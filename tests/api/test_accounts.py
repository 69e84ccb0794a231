"""Managing accounts through the API (admin): roles, deactivation that cuts off tokens and sessions at once,
reactivation, password reset; reasons required, lockout refused, every act in the trail."""

from __future__ import annotations

import json
import re

from tests.api.conftest import Api


def _sign_in_page(api: Api, username: str, password: str = "demo") -> int:
    page = api.client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return api.client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf}).status_code


def _token(api: Api, username: str, password: str = "demo") -> int:
    return api.client.post("/api/v1/tokens", json={"username": username, "password": password}).status_code


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _trail(api: Api) -> list[dict]:  # type: ignore[type-arg]
    resp = api.get("/audit/export?format=jsonl", "heidi")
    assert resp.status_code == 200
    lines = [json.loads(line) for line in resp.get_data(as_text=True).splitlines() if line.strip()]
    events = [e for e in lines if str(e.get("type", "")).startswith("admin.")]
    for event in events:  # the bundle keeps each event's data as the canonical text that was hashed
        event["data"] = json.loads(event["data"]) if isinstance(event["data"], str) else event["data"]
    return events


def test_admin_lists_accounts_and_others_are_refused(api: Api) -> None:
    assert _sign_in_page(api, "alice") == 302
    listed = api.get("/users", "admin")
    assert listed.status_code == 200
    by_name = {u["username"]: u for u in listed.json["users"]}
    assert by_name["alice"]["roles"] == ["requester", "service_desk"] and by_name["alice"]["active"] is True
    assert by_name["alice"]["last_sign_in"] is not None and by_name["bob"]["last_sign_in"] is None
    # one account reads as it lists
    assert api.get("/users/alice", "admin").json["last_sign_in"] == by_name["alice"]["last_sign_in"]
    assert api.get("/users/bob", "admin").json["last_sign_in"] is None
    assert set(by_name["alice"]) >= {"display_name", "email", "created_at"}
    for who in ("alice", "heidi", "ivan"):
        assert api.get("/users", who).status_code == 403
        assert api.patch("/users/bob", who, json={"active": False, "reason": "x"}).status_code == 403
    assert api.client.application.test_client().get("/api/v1/users").status_code == 401
    assert api.get("/users/nobody", "admin").status_code == 404


def test_deactivation_cuts_off_token_and_session_at_once_and_reactivation_restores_sign_in(api: Api) -> None:
    bob_token = api.token("bob")
    assert api.get("/tasks", "bob").status_code == 200  # in the token cache now
    browser = api.client.application.test_client()
    page = browser.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert browser.post("/login", data={"username": "bob", "password": "demo", "csrf_token": csrf}).status_code == 302
    assert browser.get("/api/v1/tasks").status_code == 200

    done = api.patch("/users/bob", "admin", json={"active": False, "reason": "left the company"})
    assert done.status_code == 200 and done.json["active"] is False
    assert api.client.get("/api/v1/tasks", headers=_bearer(bob_token)).status_code == 401
    assert browser.get("/api/v1/tasks").status_code == 401
    assert _token(api, "bob") == 401
    again = api.patch("/users/bob", "admin", json={"active": False, "reason": "double click"})
    assert again.status_code == 200  # nothing to change: nothing written
    assert api.client.get("/api/v1/tasks", headers=_bearer(bob_token)).status_code == 401

    back = api.patch("/users/bob", "admin", json={"active": True, "reason": "rehired"})
    assert back.status_code == 200 and back.json["active"] is True
    assert api.client.get("/api/v1/tasks", headers=_bearer(bob_token)).status_code == 401  # stays revoked
    assert _token(api, "bob") == 201
    kinds = [(e["type"], e["data"]["username"], e["data"]["reason"]) for e in _trail(api)]
    assert kinds == [("admin.account_deactivated", "bob", "left the company"),
                     ("admin.account_reactivated", "bob", "rehired")]
    deactivated = _trail(api)[0]
    assert deactivated["actor"] == "admin" and deactivated["data"]["tokens_revoked"] == 1
    assert deactivated["data"]["sessions_ended"] == 1


def test_a_role_change_takes_effect_on_the_next_request(api: Api) -> None:
    assert api.get("/audit/verify", "ivan").status_code == 403
    given = api.patch("/users/ivan", "admin", json={"roles": ["auditor"], "reason": "audit season"})
    assert given.status_code == 200 and given.json["roles"] == ["auditor", "requester"]
    assert api.get("/audit/verify", "ivan").status_code == 200  # the same token, the new role
    taken = api.patch("/users/ivan", "admin", json={"roles": [], "reason": "season over"})
    assert taken.status_code == 200 and taken.json["roles"] == ["requester"]
    assert api.get("/audit/verify", "ivan").status_code == 403
    changes = [(e["data"]["before"], e["data"]["after"]) for e in _trail(api) if e["type"] == "admin.roles_changed"]
    assert changes == [(["requester"], ["auditor", "requester"]), (["auditor", "requester"], ["requester"])]


def test_bad_requests_are_refused_with_the_reason_and_nothing_changes(api: Api) -> None:
    no_reason = api.patch("/users/bob", "admin", json={"active": False})
    assert no_reason.status_code == 400 and "reason" in no_reason.json["error"]["message"]
    blank = api.patch("/users/bob", "admin", json={"active": False, "reason": "  "})
    assert blank.status_code == 400
    assert api.patch("/users/bob", "admin", json={"reason": "nothing"}).status_code == 400
    assert api.patch("/users/bob", "admin", json={"active": "no", "reason": "x"}).status_code == 400
    assert api.patch("/users/bob", "admin", json={"roles": "cab", "reason": "x"}).status_code == 400
    unknown = api.patch("/users/bob", "admin", json={"roles": ["wizard"], "reason": "x"})
    assert unknown.status_code == 422 and "wizard" in unknown.json["error"]["message"]
    assert api.patch("/users/nobody", "admin", json={"active": False, "reason": "x"}).status_code == 404
    assert api.get("/tasks", "bob").status_code == 200
    assert _trail(api) == []


def test_an_administrator_cannot_lock_themselves_or_everyone_out(api: Api) -> None:
    selfish = api.patch("/users/admin", "admin", json={"active": False, "reason": "oops"})
    assert selfish.status_code == 409 and "yourself" in selfish.json["error"]["message"]
    demoted = api.patch("/users/admin", "admin", json={"roles": ["auditor"], "reason": "oops"})
    assert demoted.status_code == 409
    assert api.get("/users", "admin").status_code == 200
    # a second administrator may take the first one's role; the last one keeps it
    assert api.patch("/users/grace", "admin", json={"roles": ["admin", "process_owner"], "reason": "deputy"}
                     ).status_code == 200
    assert api.patch("/users/admin", "grace", json={"roles": [], "reason": "handover"}).status_code == 200
    last = api.patch("/users/grace", "grace", json={"active": False, "reason": "leaving"})
    assert last.status_code == 409
    assert [e["type"] for e in _trail(api)] == ["admin.roles_changed", "admin.roles_changed"]


def test_a_password_reset_needs_the_minimum_length_and_ends_old_credentials(api: Api) -> None:
    old = api.token("bob")
    short = api.post("/users/bob/password", "admin", json={"password": "short", "reason": "forgotten"})
    assert short.status_code == 422
    assert api.post("/users/bob/password", "admin", json={"password": "a-long-new-secret"}).status_code == 400
    done = api.post("/users/bob/password", "admin", json={"password": "a-long-new-secret", "reason": "forgotten"})
    assert done.status_code == 200
    assert api.client.get("/api/v1/tasks", headers=_bearer(old)).status_code == 401
    assert _token(api, "bob") == 401
    assert _token(api, "bob", "a-long-new-secret") == 201
    assert api.post("/users/bob/password", "alice", json={"password": "a-long-new-secret", "reason": "x"}
                    ).status_code == 403
    reset = _trail(api)
    assert [e["type"] for e in reset] == ["admin.password_reset"]
    assert "a-long-new-secret" not in json.dumps(reset)


def test_the_page_needs_the_admin_role_and_the_session_csrf_token(api: Api) -> None:
    alice = Api(api.client.application.test_client(), api.db)
    assert _sign_in_page(alice, "alice") == 302
    assert alice.client.get("/admin/users").status_code == 403
    assert _sign_in_page(api, "admin") == 302
    listing = api.client.get("/admin/users").get_data(as_text=True)
    assert 'data-username="bob"' in listing
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', listing).group(1)  # type: ignore[union-attr]
    forged = api.client.post("/admin/users/bob", data={"action": "deactivate", "reason": "x"})
    assert forged.status_code == 403
    assert api.get("/tasks", "bob").status_code == 200
    no_reason = api.client.post("/admin/users/bob", data={"action": "deactivate", "csrf_token": csrf})
    assert no_reason.status_code == 302 and api.get("/tasks", "bob").status_code == 200
    selfish = api.client.post("/admin/users/admin", data={"action": "deactivate", "reason": "x", "csrf_token": csrf},
                              follow_redirects=True)
    assert "cannot deactivate yourself" in selfish.get_data(as_text=True)
    done = api.client.post("/admin/users/bob", data={"action": "deactivate", "reason": "left", "csrf_token": csrf},
                           follow_redirects=True)
    assert "bob is deactivated" in done.get_data(as_text=True)
    assert api.get("/tasks", "bob").status_code == 401


def test_a_removed_role_takes_its_work_with_it_at_the_next_request(api: Api) -> None:
    task = api.post("/instances", "ivan", json={"process": "response", "data": {}}).json["tasks"][0]
    assert task["roles"] == ["service_desk"]
    assert task["id"] in [t["id"] for t in api.get("/tasks?scope=available", "alice").json["tasks"]]
    moved = api.patch("/users/alice", "admin", json={"roles": ["resolver"], "reason": "moved to second line"})
    assert moved.status_code == 200
    assert api.get("/tasks?scope=available", "alice").json["tasks"] == []  # the same token, a request later
    assert api.post(f"/tasks/{task['id']}/claim", "alice").status_code == 403
    api.patch("/users/alice", "admin", json={"roles": ["service_desk"], "reason": "back on the desk"})
    assert api.post(f"/tasks/{task['id']}/claim", "alice").json["assignee"] == "alice"
