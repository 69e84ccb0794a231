"""Signing in and out: passwords, the session cookie's flags, CSRF on the sign-in form and on every form of
every page, and only local `next` targets."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.services import instances
from tests.conftest import IVAN
from tests.web.conftest import make_app, sign_in
from tests.web.support import open_task


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def test_sign_in_with_password(client: FlaskClient) -> None:
    token = _token(client.get("/login").get_data(as_text=True))
    wrong = client.post("/login", data={"csrf_token": token, "username": "alice", "password": "nope"})
    assert wrong.status_code == 401
    page = wrong.get_data(as_text=True)
    assert "unknown user or wrong password" in page
    assert 'value="alice"' in page  # the name typed is kept
    right = client.post("/login", data={"csrf_token": token, "username": "alice", "password": "demo"})
    assert right.status_code == 302 and right.headers["Location"] == "/inbox"
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/inbox").status_code == 200


def test_secure_cookie_when_configured(ui_db) -> None:  # type: ignore[no-untyped-def]
    from web import create_app
    from web.config import Settings

    app = create_app(Settings(ui_db.url, "k", secure_cookies=True), ui_db)
    client = app.test_client()
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "username": "bob", "password": "demo"})
    assert "Secure" in response.headers["Set-Cookie"]


def test_sign_in_needs_the_form_s_token(client: FlaskClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "alice", "password": "demo"})
    assert response.status_code == 403
    assert "form expired" in response.get_data(as_text=True)


def test_sign_in_starts_a_new_session(client: FlaskClient) -> None:
    token = _token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"csrf_token": token, "username": "alice", "password": "demo"})
    assert _token(client.get("/inbox").get_data(as_text=True)) != token  # no fixation of the CSRF token


@pytest.mark.parametrize(("target", "lands"), [("/records?q=x", "/records?q=x"), ("//evil.example/x", "/inbox"),
                                               ("https://evil.example/", "/inbox"), ("/\\evil.example", "/inbox")])
def test_next_is_only_followed_to_local_pages(client: FlaskClient, target: str, lands: str) -> None:
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "username": "alice", "password": "demo",
                                           "next": target})
    assert response.headers["Location"] == lands


def test_a_page_asked_for_signed_out_comes_back_after_sign_in(client: FlaskClient) -> None:
    response = client.get("/dashboard?days=7")
    assert response.headers["Location"] == "/login?next=/dashboard?days%3D7"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/dashboard?days=7"' in html


def test_sign_out(client: FlaskClient) -> None:
    token = sign_in(client, "alice")
    assert client.post("/logout").status_code == 403  # no token: refused, still signed in
    assert client.get("/inbox").status_code == 200
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/inbox").status_code == 302


def test_the_session_cookie_is_signed_with_the_current_key(app: Flask, client: FlaskClient) -> None:
    # The signer is built once per key (web/cookie_session.py): a new key must still void the old cookies, a
    # key kept as a fallback must still open them, and a request without the cookie is simply signed out.
    token = _token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"csrf_token": token, "username": "alice", "password": "demo"})
    assert client.get("/inbox").status_code == 200
    old = app.secret_key
    app.secret_key = "another-secret"
    assert client.get("/inbox").status_code == 302  # the old cookie no longer opens
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert client.get("/inbox").status_code == 200  # a rotated-out key still reads the cookie
    assert app.test_client().get("/inbox").status_code == 302  # no cookie at all: signed out


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"method": (a.get("method") or "get").lower(), "action": a.get("action"),
                               "token": None})
        elif tag == "input" and a.get("name") == "csrf_token" and self.forms:
            self.forms[-1]["token"] = a.get("value")


PAGES = ["/inbox", "/inbox?tab=all", "/new/incident", "/records", "/records/{record}", "/tasks/{task}",
         "/processes", "/processes/upload", "/dashboard", "/audit"]


def test_every_form_that_posts_carries_the_session_s_token(app: Flask, ui_db) -> None:  # type: ignore[no-untyped-def]
    key = instances.start(ui_db, IVAN, "response", {"summary": "x"}).business_key
    ids = {"record": key, "task": open_task(ui_db, key, "record")["id"]}
    client = make_app(ui_db).test_client()
    seen = 0
    for user in ("admin", "alice"):
        token = sign_in(client, user)
        for path in PAGES:
            response = client.get(path.format(**ids))
            if response.status_code != 200:
                continue
            parser = _Forms()
            parser.feed(response.get_data(as_text=True))
            for form in parser.forms:
                if form["method"] == "post":
                    seen += 1
                    assert form["token"] == token, f"{path} form {form['action']} lacks the CSRF token"
            assert f'<meta name="csrf-token" content="{token}">' in response.get_data(as_text=True)
    assert seen >= 10
