"""Sessions and tokens that end, and sign-in that cannot be hammered (issue 11, finding 5)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from engine.db.database import unit_of_work
from engine.db.models import AuditEvent, User
from engine.services import users
from tests.api.conftest import Api


def _later(**delta: float):  # type: ignore[no-untyped-def]
    return time_machine.travel(datetime.now(UTC) + timedelta(**delta), tick=False)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _sign_in_token(api: Api, username: str, password: str = "demo", address: str = "127.0.0.1"):  # type: ignore[no-untyped-def]
    return api.client.post("/api/v1/tokens", json={"username": username, "password": password},
                           environ_base={"REMOTE_ADDR": address})


def test_tokens_expire(api: Api) -> None:
    resp = _sign_in_token(api, "alice")
    assert resp.status_code == 201
    token, expires = resp.json["token"], datetime.fromisoformat(resp.json["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    assert api.client.get("/api/v1/tasks", headers=_bearer(token)).status_code == 200  # now in the token cache
    with _later(days=31):  # the cache's few seconds have not run out (monotonic time), the token has
        assert api.client.get("/api/v1/tasks", headers=_bearer(token)).status_code == 401


def test_tokens_are_revoked_through_the_api(api: Api) -> None:
    first, second = _sign_in_token(api, "alice").json["token"], _sign_in_token(api, "alice").json["token"]
    assert api.client.delete("/api/v1/tokens/current", headers=_bearer(first)).status_code == 204
    assert api.client.get("/api/v1/tasks", headers=_bearer(first)).status_code == 401
    assert api.client.get("/api/v1/tasks", headers=_bearer(second)).status_code == 200
    ivan = _sign_in_token(api, "ivan").json["token"]
    refused = api.client.post("/api/v1/tokens/revoke", json={"username": "alice"}, headers=_bearer(ivan))
    assert refused.status_code == 403
    admin = _sign_in_token(api, "admin").json["token"]
    done = api.client.post("/api/v1/tokens/revoke", json={"username": "alice"}, headers=_bearer(admin))
    assert done.status_code == 200 and done.json == {"revoked": 1}
    assert api.client.get("/api/v1/tasks", headers=_bearer(second)).status_code == 401
    with unit_of_work(api.db) as uow:
        types = list(uow.session.execute(select(AuditEvent.type).where(AuditEvent.type == "token.revoked")).scalars())
    assert len(types) == 2


def _page_sign_in(api: Api, username: str, password: str = "demo"):  # type: ignore[no-untyped-def]
    page = api.client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return api.client.post("/login", data={"username": username, "password": password, "csrf_token": csrf})


def test_logout_ends_the_session_on_the_server(api: Api) -> None:
    assert _page_sign_in(api, "alice").status_code == 302
    cookie = api.client.get_cookie("session")
    assert cookie is not None
    stolen = cookie.value
    assert api.client.get("/api/v1/tasks").status_code == 200  # the session cookie signs her in
    home = api.client.get("/inbox").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)  # type: ignore[union-attr]
    assert api.client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    api.client.set_cookie("session", stolen)  # the old cookie, replayed
    assert api.client.get("/api/v1/tasks").status_code == 401


def test_sign_in_is_throttled_per_account_with_an_audited_lockout(api: Api) -> None:
    for _ in range(5):
        assert _sign_in_token(api, "alice", "wrong").status_code == 401
    locked = _sign_in_token(api, "alice")  # the right password, too soon
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert _sign_in_token(api, "bob").status_code == 201  # others are not affected
    with unit_of_work(api.db) as uow:
        events = list(uow.session.execute(select(AuditEvent).where(AuditEvent.type == "login.locked")).scalars())
    assert events and "user:alice" in events[0].data_json
    with _later(seconds=31):
        assert _sign_in_token(api, "alice").status_code == 201
        assert _sign_in_token(api, "alice", "wrong").status_code == 401  # the count started again


def test_sign_in_is_throttled_per_address(api: Api) -> None:
    for n in range(20):
        assert _sign_in_token(api, f"guess{n}", "wrong", address="10.1.2.3").status_code == 401
    assert _sign_in_token(api, "alice", address="10.1.2.3").status_code == 429
    assert _sign_in_token(api, "alice", address="10.9.9.9").status_code == 201


def test_old_password_hashes_keep_working_and_are_upgraded(api: Api) -> None:
    fresh = users.hash_password("a long passphrase")
    assert fresh.startswith("scrypt$16384$8$1$") and users.check_password("a long passphrase", fresh)
    import hashlib
    salt = bytes(16)
    old = f"scrypt$16384${salt.hex()}${hashlib.scrypt(b'demo', salt=salt, n=2**14, r=8, p=1).hex()}"
    with unit_of_work(api.db) as uow:
        uow.session.execute(select(User).where(User.username == "carol")).scalar_one().password_hash = old
        uow.commit()
    assert _sign_in_token(api, "carol").status_code == 201
    with unit_of_work(api.db) as uow:
        stored = uow.session.execute(select(User.password_hash).where(User.username == "carol")).scalar_one()
    assert stored.startswith("scrypt$16384$8$1$") and stored != old
    assert _sign_in_token(api, "carol").status_code == 201


def test_an_unknown_name_costs_the_same_scrypt_work_as_a_wrong_password(api: Api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Timing is not measured in tests; what makes it equal is: the same scrypt call, with the same parameters."""
    import hashlib

    calls: list[tuple[int, int, int]] = []
    real = hashlib.scrypt

    def counting(password: bytes, **kw):  # type: ignore[no-untyped-def]
        calls.append((kw["n"], kw["r"], kw["p"]))
        return real(password, **kw)

    monkeypatch.setattr(users.hashlib, "scrypt", counting)
    assert _sign_in_token(api, "alice", "wrong").status_code == 401
    wrong_password = list(calls)
    calls.clear()
    assert _sign_in_token(api, "no-such-user", "wrong").status_code == 401
    assert calls == wrong_password == [(2**14, 8, 1)]
