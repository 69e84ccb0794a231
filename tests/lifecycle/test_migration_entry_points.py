"""Migration through the JSON API and the command line, as an integration or an operator uses it."""

from __future__ import annotations

from engine.db.database import Database
from engine.services import instances
from tests.cli.test_cli import run
from tests.conftest import ALICE, IVAN
from tests.lifecycle.conftest import Api
from tests.lifecycle.test_migration import chain
from tests.support import deploy_xml, do, instance, task_ids


def two_versions(db: Database) -> list[str]:
    deploy_xml(db, chain(("a", "service_desk"), ("b", "resolver")))
    keys = [instances.start(db, IVAN, "p", {}).business_key for _ in range(2)]
    do(db, ALICE, keys[1], "a", {})
    deploy_xml(db, chain(("a", "service_desk"), ("b2", "resolver")))  # b renamed b2
    return keys


def test_api_dry_run_and_apply(api: Api) -> None:
    at_a, at_b = two_versions(api.db)
    choices = api.get("/processes/p/migrations", "grace").json
    assert [(v["version"], v["open"]) for v in choices["versions"]] == [(1, 2), (2, 0)]

    dry = api.post("/processes/p/migrations/dry-run", "grace", json={"from_version": 1, "to_version": 2})
    assert dry.status_code == 200 and (dry.json["movable"], dry.json["blocked"]) == (1, 1)
    mapped = api.post("/processes/p/migrations/dry-run", "grace",
                      json={"from_version": 1, "to_version": 2, "mapping": {"b": "b2"}})
    rows = {r["business_key"]: r for r in mapped.json["instances"]}
    assert rows[at_b]["elements"][0]["target"] == "b2" and rows[at_b]["elements"][0]["how"] == "mapped"

    applied = api.post("/processes/p/migrations", "grace",
                       json={"from_version": 1, "to_version": 2, "mapping": {"b": "b2"}, "instances": [at_b],
                             "reason": "renamed"})
    assert applied.status_code == 200 and applied.json["moved"] == [at_b]
    assert (instance(api.db, at_b)["version"], instance(api.db, at_a)["version"]) == (2, 1)
    assert task_ids(api.db, at_b) == ["b2"]


def test_api_refuses_bad_requests(api: Api) -> None:
    two_versions(api.db)
    post = api.post
    assert post("/processes/p/migrations/dry-run", "grace", data="[]", content_type="application/json"
                ).status_code == 400
    bad = post("/processes/p/migrations/dry-run", "grace", json={"from_version": 1})
    assert bad.status_code == 400 and "to_version" in bad.json["error"]["details"]["fields"]
    assert post("/processes/p/migrations/dry-run", "grace", json={"from_version": 1, "to_version": 9}
                ).status_code == 404
    assert post("/processes/nope/migrations/dry-run", "grace", json={"from_version": 1, "to_version": 2}
                ).status_code == 404
    assert post("/processes/p/migrations/dry-run", "alice", json={"from_version": 1, "to_version": 2}
                ).status_code == 403
    assert post("/processes/p/migrations", "grace", json={"from_version": 1, "to_version": 2}).status_code == 400
    assert post("/processes/p/migrations", "grace",
                json={"from_version": 1, "to_version": 2, "reason": ["x"]}).status_code == 400
    assert api.get("/processes/p/migrations", "bob").status_code == 403


def test_cli_dry_run_then_apply(sqlite_db: Database) -> None:
    at_a, at_b = two_versions(sqlite_db)
    url = sqlite_db.url
    dry = run(["migrate", "p", "--from", "1", "--to", "2"], url)
    assert dry.returncode == 0, dry.stderr
    assert f"{at_a}: can move — a -> a (same id)" in dry.stdout
    assert f"{at_b}: cannot move — b (ready) has no counterpart" in dry.stdout
    assert "1 can move, 1 cannot" in dry.stdout
    assert instance(sqlite_db, at_a)["version"] == 1

    refused = run(["migrate", "p", "--from", "1", "--to", "2", "--apply"], url)
    assert refused.returncode == 1 and "say why" in refused.stderr
    bad_map = run(["migrate", "p", "--from", "1", "--to", "2", "--map", "b"], url)
    assert bad_map.returncode != 0 and "OLD=NEW" in bad_map.stderr
    unknown = run(["migrate", "p", "--from", "1", "--to", "2", "--map", "zz=b2"], url)
    assert unknown.returncode == 1 and "zz" in unknown.stderr

    done = run(["migrate", "p", "--from", "1", "--to", "2", "--map", "b=b2", "--instance", at_b, "--apply",
                "--reason", "b is now b2"], url)
    assert done.returncode == 0, done.stderr
    assert f"moved 1 instance(s) to v2: {at_b}" in done.stdout
    assert task_ids(sqlite_db, at_b) == ["b2"]
