"""Who may open which page: the table of page x role. Allowed pages answer 200, the others 403 (with the error
page), and without a session every page sends the browser to sign in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from engine.services import instances, seeding
from engine.services.bundles import folder_bundle
from tests.conftest import ALICE, IVAN
from tests.support import OWNER, PROCESSES
from tests.web.conftest import make_app, sign_in
from tests.web.support import USERS, fresh_db, open_task

EVERYONE = frozenset(USERS)
LEADS = frozenset({"alice", "carol", "frank", "grace", "heidi", "admin"})  # service desk, managers, auditor, admin
CATALOGUE = frozenset({"grace", "heidi", "admin"})
OWNERS = frozenset({"grace", "admin"})
TRAIL = frozenset({"heidi", "admin"})
# The record is ivan's incident in `response`, whose lanes route work to the service desk, resolvers and
# requesters: its own people and the staff of those roles see it, besides managers, auditors and admins.
RECORD = LEADS | {"bob", "ivan"}

PAGES: dict[str, tuple[str, frozenset[str]]] = {
    "inbox": ("/inbox", EVERYONE),
    "inbox, mine": ("/inbox?tab=mine", EVERYONE),
    "inbox, all open": ("/inbox?tab=all", LEADS),
    "task (service desk's)": ("/tasks/{task}", LEADS | {"bob"}),  # staff who see the record; not the requester
    "new record": ("/new", EVERYONE),
    "raise an incident": ("/new/incident", EVERYONE),
    "make a request": ("/new/request", EVERYONE),
    "records": ("/records?q=printer", EVERYONE),
    "record (ivan's)": ("/records/{record}", RECORD),
    "dashboard": ("/dashboard", LEADS),
    "processes": ("/processes", CATALOGUE),
    "version diff": ("/processes/response/diff", CATALOGUE),
    "modeller": ("/processes/response/modeller", OWNERS),
    "upload": ("/processes/upload", OWNERS),
    "table editor": ("/decisions/priority/editor", OWNERS),
    "table examples": ("/decisions/priority/versions/1/tests.json", CATALOGUE),
    "proposal from the bundled processes": ("/processes/proposals/{proposal}", CATALOGUE),
    "table diff": ("/decisions/priority/diff?base=0&target=1", CATALOGUE),
    "move running records": ("/processes/response/migrate", OWNERS),
    "audit trail": ("/audit", TRAIL),
    "trail export csv": ("/audit/export?format=csv", TRAIL),
    "trail export jsonl": ("/audit/export?format=jsonl", TRAIL),
    "trail bundle": ("/audit/export?format=bundle", TRAIL),
    "my requests": ("/my", EVERYONE),
    "notifications": ("/notifications", EVERYONE),
    "notification templates": ("/notifications/templates", frozenset({"admin"})),
    "mail in": ("/mail-in", frozenset({"alice", "admin"})),
    "dead letters": ("/admin/dead-letters", frozenset({"admin"})),
    "accounts": ("/admin/users", frozenset({"admin"})),
}
NAV = {"Inbox": EVERYONE, "My requests": EVERYONE, "New record": EVERYONE, "Records": EVERYONE, "Dashboard": LEADS,
       "Processes": CATALOGUE, "Audit trail": TRAIL, "Mail in": frozenset({"alice", "admin"}),
       "Dead letters": frozenset({"admin"}), "Accounts": frozenset({"admin"})}


@pytest.fixture(scope="module")
def world(ui_template: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One database for the whole (read-only) table: ivan's incident waiting for the service desk."""
    db = fresh_db(ui_template, tmp_path_factory.mktemp("access"))
    key = instances.start(db, IVAN, "response", {"summary": "Printer jams"}).business_key
    alices = instances.start(db, ALICE, "response", {"summary": "Alice's own"}).business_key
    bundle = folder_bundle(PROCESSES / "response")
    assert bundle is not None
    proposal = seeding.seed_bundle(db, bundle, OWNER, "processes/response").proposal
    yield {"client": make_app(db).test_client(), "record": key, "task": open_task(db, key, "record")["id"],
           "alices": alices, "proposal": proposal}
    db.dispose()


def _get(client: FlaskClient, path: str) -> Any:
    response = client.get(path)
    response.get_data()
    response.close()
    return response


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("page", list(PAGES))
def test_page_by_role(world: dict[str, Any], page: str, user: str) -> None:
    path, allowed = PAGES[page]
    client = world["client"]
    sign_in(client, user)
    response = _get(client, path.format(**world))
    expected = 200 if user in allowed else 403
    assert response.status_code == expected, f"{user} on {page}: {response.status_code}"
    if expected == 403:
        assert "Not allowed" in response.get_data(as_text=True)


@pytest.mark.parametrize("page", list(PAGES))
def test_signed_out_goes_to_sign_in(world: dict[str, Any], page: str) -> None:
    client = world["client"]
    with client.session_transaction() as session:
        session.clear()
    path = PAGES[page][0].format(**world)
    response = _get(client, path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("user", USERS)
def test_navigation_shows_what_the_role_may_open(world: dict[str, Any], user: str) -> None:
    client = world["client"]
    sign_in(client, user)
    html = _get(client, "/records").get_data(as_text=True)
    nav = html.split('<nav class="main-nav"', 1)[1].split("</nav>", 1)[0]
    for label, allowed in NAV.items():
        assert (f">{label}</a>" in nav) == (user in allowed), f"{label} for {user}"


@pytest.mark.parametrize(("user", "landing"), [("alice", "/inbox"), ("bob", "/inbox"), ("ivan", "/my"),
                                               ("grace", "/processes"), ("heidi", "/audit"), ("admin", "/inbox")])
def test_home_lands_on_the_role_s_start_page(world: dict[str, Any], user: str, landing: str) -> None:
    client = world["client"]
    sign_in(client, user)
    response = _get(client, "/")
    assert response.status_code == 302 and response.headers["Location"] == landing


def test_requester_sees_only_own_records(world: dict[str, Any]) -> None:
    client = world["client"]
    sign_in(client, "ivan")
    assert _get(client, f"/records/{world['alices']}").status_code == 403
    listing = _get(client, "/records").get_data(as_text=True)
    assert world["record"] in listing and world["alices"] not in listing
    sign_in(client, "bob")
    assert _get(client, f"/records/{world['alices']}").status_code == 200


def test_pages_send_security_headers(world: dict[str, Any]) -> None:
    client = world["client"]
    sign_in(client, "alice")
    response = _get(client, "/inbox")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
