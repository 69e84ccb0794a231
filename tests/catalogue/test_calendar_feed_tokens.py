"""The change calendar's feed for calendar clients, through the HTTP API: a person makes a feed token (kept only
as its hash, audited), subscribes with `calendar.ics?token=` and sees only the changes they may see; a revoked or
replaced token, or a person who lost the staff roles, gets 401/403."""

from __future__ import annotations

from icalendar import Calendar
from sqlalchemy import select

from engine.db.cmdb import CalendarFeedToken
from engine.db.database import unit_of_work
from tests.catalogue.conftest import CatalogueApi as Api
from tests.catalogue.conftest import error, trail
from tests.catalogue.test_change_calendar_api import _do, setup

MONTH = "from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z"


def raise_for(api: Api, requester: str, title: str, start: str, end: str) -> str:
    started = api.post("/instances", "cora", json={"process": "change", "data": {
        "requester": requester, "title": title, "description": "planned work", "service": "email",
        "affected_cis": "mail-server"}})
    assert started.status_code == 201, started.json
    key = started.json["business_key"]
    _do(api, key, "assess", "erin", {"assessment": "valid", "estimated_hours": 4, "users_affected": 60,
                                     "affected_cis": "mail-server"})
    _do(api, key, "schedule", "erin", {"change_window_start": start, "change_window_end": end})
    return key


def uids(resp) -> list[str]:  # type: ignore[no-untyped-def]
    assert resp.status_code == 200 and resp.mimetype == "text/calendar", (resp.status_code, resp.data[:300])
    return sorted(str(e["uid"]).split("@")[0] for e in Calendar.from_ical(resp.data).walk("VEVENT"))


def test_a_feed_token_shows_only_what_its_owner_may_see(cat_api: Api) -> None:
    api = cat_api
    setup(api)
    bobs = raise_for(api, "bob", "Move bob's team mailbox", "2026-12-05T22:00Z", "2026-12-05T23:00Z")
    other = raise_for(api, "ivan", "Patch the mail server", "2026-12-05T22:30Z", "2026-12-05T23:30Z")

    made = api.post("/changes/calendar/feed-token", "bob")
    assert made.status_code == 201, made.json
    token = made.json["token"]
    assert made.json["url"].endswith(f"/api/v1/changes/calendar.ics?token={token}")
    # A calendar client sends no session and no Authorization header: the token alone.
    plain = api.client.get(f"/api/v1/changes/calendar.ics?{MONTH}&token={token}")
    assert uids(plain) == [bobs]  # bob (resolver) may see his own change, not ivan's
    assert [c["business_key"] for c in api.get(f"/changes/calendar?{MONTH}", "bob").json["changes"]] == [bobs]
    # The two clash on the mail server: bob's range of conflicts lists his change only, the manager's both.
    clashing = api.get(f"/changes/conflicts?{MONTH}", "bob").json["changes"]
    assert [c["business_key"] for c in clashing] == [bobs]
    assert sorted(c["business_key"] for c in api.get(f"/changes/conflicts?{MONTH}", "carol").json["changes"]) == \
        sorted([bobs, other])
    carols = api.post("/changes/calendar/feed-token", "carol").json["token"]
    assert uids(api.client.get(f"/api/v1/changes/calendar.ics?{MONTH}&token={carols}")) == sorted([bobs, other])

    # Only the hash is stored; the token is never in the trail.
    with unit_of_work(api.db, readonly=True) as uow:
        stored = list(uow.session.execute(select(CalendarFeedToken.token_hash)).scalars())
    assert token not in stored and len(stored) == 2
    created = trail(api, "calendar_feed.token_created")
    assert [e["actor"] for e in created] == ["bob", "carol"] and token not in str(created)
    assert api.get("/changes/calendar/feed-token", "bob").json["active"] is True

    # The token reads the feed and nothing else.
    assert api.client.get(f"/api/v1/changes/calendar?{MONTH}&token={token}").status_code == 401
    assert api.client.get("/api/v1/services", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_revoked_replaced_and_unknown_tokens_get_nothing(cat_api: Api) -> None:
    api = cat_api
    first = api.post("/changes/calendar/feed-token", "erin").json["token"]
    second = api.post("/changes/calendar/feed-token", "erin").json["token"]  # making a new one stops the old
    feed = "/api/v1/changes/calendar.ics?token="
    assert api.client.get(feed + first).status_code == 401
    assert api.client.get(feed + second).status_code == 200
    assert api.delete("/changes/calendar/feed-token", "erin").status_code == 204
    assert api.client.get(feed + second).status_code == 401
    assert api.get("/changes/calendar/feed-token", "erin").json == {"active": False, "created_at": None}
    error(api.delete("/changes/calendar/feed-token", "erin"), 404)
    assert [e["type"] for e in trail(api) if e["type"].startswith("calendar_feed.")] == [
        "calendar_feed.token_created", "calendar_feed.token_created", "calendar_feed.token_revoked"]
    assert api.client.get(feed + "not-a-token").status_code == 401
    assert api.client.get(feed).status_code == 401  # an empty token is no token: no session either

    # Roles are read when the feed is fetched: someone who is no longer staff gets 403, a deactivated person 401.
    kept = api.post("/changes/calendar/feed-token", "dave").json["token"]
    assert api.patch("/users/dave", "admin", json={"roles": [], "reason": "left the board"}).status_code == 200
    assert api.client.get(feed + kept).status_code == 403
    assert api.patch("/users/dave", "admin", json={"active": False, "reason": "left"}).status_code == 200
    assert api.client.get(feed + kept).status_code == 401
    error(api.post("/changes/calendar/feed-token", "ivan"), 403)  # requesters have no calendar to subscribe to
    error(api.post("/changes/calendar/feed-token"), 401)
