"""The inbox's exact total equals the rows its pages list, for every tab and filter, while tasks are claimed,
given back, assigned and completed (GET /api/v1/tasks)."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.test_api import RECORD

QUERIES = [("alice", "scope=todo"), ("alice", "scope=available"), ("alice", "scope=mine"),
           ("alice", "scope=all"), ("alice", "scope=all&assignee=none"), ("alice", "scope=all&assignee=alice"),
           ("alice", "scope=all&role=service_desk"), ("alice", "scope=available&priority=none&sort=-record"),
           ("admin", "scope=todo"), ("admin", "scope=available"), ("admin", "scope=mine"),
           ("ivan", "scope=todo"), ("ivan", "scope=mine")]


def _walk(api: Api, user: str, query: str) -> tuple[int, list[str]]:
    """The first page's total and the ids of every row reached by following the cursor, two at a time."""
    ids: list[str] = []
    total, cursor = -1, None
    while True:
        got = api.get(f"/tasks?{query}&limit=2" + (f"&cursor={cursor}" if cursor else ""), user).json
        total = got["total"] if total < 0 else total
        ids += [t["id"] for t in got["tasks"]]
        cursor = got["next_cursor"]
        if cursor is None:
            return total, ids


def _check(api: Api, queries: list[tuple[str, str]] | None = None) -> dict[str, int]:
    """Every total equals the rows walked, with no row twice; returns the totals by "user query"."""
    totals = {}
    for user, query in queries or QUERIES:
        total, ids = _walk(api, user, query)
        assert len(ids) == len(set(ids)) and total == len(ids), (user, query, total, len(ids))
        totals[f"{user} {query}"] = total
    return totals


def test_totals_equal_the_rows_walked_through_claims_assigns_and_completions(api: Api) -> None:
    for n in range(5):
        api.post("/instances", "ivan", json={"process": "response", "data": {"summary": f"r{n}"}})
    start = _check(api)
    assert start["alice scope=available"] == 5 and start["alice scope=mine"] == 0
    ids = [t["id"] for t in api.get("/tasks?scope=available&sort=record", "alice").json["tasks"]]
    assert api.post(f"/tasks/{ids[0]}/claim", "alice").status_code == 200
    assert api.post(f"/tasks/{ids[1]}/claim", "admin").status_code == 200
    after_claims = _check(api)
    assert after_claims["alice scope=available"] == 3 and after_claims["alice scope=mine"] == 1
    assert api.post(f"/tasks/{ids[0]}/unclaim", "alice").status_code == 200
    assert api.post(f"/tasks/{ids[2]}/assign", "alice", json={"assignee": "alice"}).status_code == 200
    assert api.post(f"/tasks/{ids[1]}/assign", "admin", json={"assignee": "alice"}).status_code == 200
    moved = _check(api)
    assert moved["alice scope=mine"] == 2 and moved["alice scope=available"] == 3
    assert api.post(f"/tasks/{ids[2]}/complete", "alice", json={"data": RECORD}).status_code == 200
    done = _check(api)
    assert done["alice scope=mine"] == 1
    assert done["alice scope=all"] >= moved["alice scope=all"] - 1  # the step may offer the record's next task
