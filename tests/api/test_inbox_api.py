"""GET /api/v1/tasks as a paged inbox: limit and cursor, sort, filters with an exact total, clear 400s."""

from __future__ import annotations

from tests.api.conftest import Api


def test_paging_sorting_and_filters(api: Api) -> None:
    keys = [api.post("/instances", "ivan", json={"process": "response", "data": {"summary": f"r{n}"}}).json[
        "business_key"] for n in range(7)]
    seen, cursor = [], None
    while True:
        got = api.get("/tasks?scope=available&limit=3&sort=-record" + (f"&cursor={cursor}" if cursor else ""),
                      "alice").json
        assert got["total"] == 7 and got["sort"] == "-record" and len(got["tasks"]) <= 3
        seen += [t["business_key"] for t in got["tasks"]]
        cursor = got["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(keys, reverse=True)
    first = api.get("/tasks?scope=available&limit=2", "alice").json["tasks"][0]
    assert api.post(f"/tasks/{first['id']}/claim", "alice").status_code == 200
    assert api.get("/tasks?scope=available", "alice").json["total"] == 6
    mine = api.get("/tasks?scope=mine", "alice").json
    assert mine["total"] == 1 and mine["tasks"][0]["id"] == first["id"]
    all_open = api.get("/tasks?scope=all&assignee=alice", "alice").json
    assert [t["id"] for t in all_open["tasks"]] == [first["id"]]
    assert api.get("/tasks?scope=all&assignee=none&q=r3", "alice").json["total"] == (0 if first["business_key"] ==
                                                                                     keys[3] else 1)
    assert api.get("/tasks?scope=all&role=service_desk&sla=none&priority=none", "alice").json["total"] == 7
    assert api.get("/tasks?scope=all&role=resolver", "alice").json["total"] == 0


def _bad(api: Api, query: str, status: int = 400) -> None:
    resp = api.get(f"/tasks?{query}", "alice")
    assert resp.status_code == status, (query, resp.status_code, resp.json)
    assert set(resp.json["error"]) == {"code", "message", "details"}


def test_bad_inbox_parameters_are_400(api: Api) -> None:
    for query in ("sort=colour", "cursor=%%%", "cursor=W10", "priority=P0", "sla=late", "due_from=yesterday",
                  "due_from=2026-02-01&due_to=2026-01-01", "scope=nobodys", "limit=ten"):
        _bad(api, query)
    resp = api.get("/tasks?scope=all", "bob")
    assert resp.status_code == 403


def test_bulk_claim_assign_and_reassign(api: Api) -> None:
    from engine.services import users

    users.add_user(api.db, "rita", "demo", ["resolver"])
    keys = [api.post("/instances", "ivan", json={"process": "response", "data": {}}).json["business_key"]
            for _ in range(3)]
    ids = [t["id"] for t in api.get("/tasks?scope=available&sort=record", "alice").json["tasks"]]
    assert len(ids) == 3
    taken = api.post(f"/tasks/{ids[1]}/claim", "admin")
    assert taken.status_code == 200
    results = api.post("/tasks/claim", "alice", json={"ids": ids}).json["results"]
    assert [r["ok"] for r in results] == [True, False, True]
    assert results[1]["error"]["code"] == "conflict"
    assert api.post("/tasks/claim", "alice", json={"ids": []}).status_code == 400
    assert api.post("/tasks/claim", "alice", json={"ids": "all"}).status_code == 400

    assert api.get(f"/tasks/{ids[0]}/assignees", "alice").json["assignees"] == ["alice"]  # the only service desk
    assert api.get(f"/tasks/{ids[0]}/assignees", "bob").status_code == 403
    _bad = api.post(f"/tasks/{ids[0]}/assign", "alice", json={"assignee": "rita"})  # a resolver: not her task
    assert _bad.status_code == 400 and "cannot work on" in _bad.json["error"]["message"]
    assert api.post(f"/tasks/{ids[0]}/assign", "alice", json={"assignee": "ghost"}).status_code == 400
    assert api.post(f"/tasks/{ids[0]}/assign", "alice", json={}).status_code == 400
    assert api.post(f"/tasks/{ids[0]}/assign", "bob", json={"assignee": "alice"}).status_code == 403
    assert api.post("/tasks/no-such-task/assign", "alice", json={"assignee": "alice"}).status_code == 404
    moved = api.post(f"/tasks/{ids[1]}/assign", "alice", json={"assignee": "alice"})  # from admin to alice
    assert moved.status_code == 200 and moved.json["assignee"] == "alice"
    events = api.get(f"/instances/{keys[1]}/audit", "heidi").json["events"]
    assigned = [e for e in events if e["type"] == "task.assigned"]
    assert assigned and assigned[-1]["data"] == {"task_id": ids[1], "assignee": "alice", "previous": "admin"}
    assert assigned[-1]["actor"] == "alice"
    results = api.post("/tasks/assign", "admin", json={"ids": ids, "assignee": "alice"}).json["results"]
    assert all(r["ok"] for r in results)
    assert api.post("/tasks/assign", "bob", json={"ids": ids, "assignee": "bob"}).status_code == 403
