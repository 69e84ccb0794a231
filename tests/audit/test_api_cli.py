"""The endpoints (admin acts, export, conformance, verify) and the commands (export, verify-bundle, verify with
the checkpoint file, conformance, checkpoint, archive), as integrations and operators use them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import text

from engine.db.database import Database, unit_of_work
from engine.services import admin, audit, audit_bundle_check, audit_chains, instances, users
from tests.api.conftest import Api
from tests.audit.diagrams import BIG, deploy_change
from tests.conftest import ADMIN, ALICE, DAVE, ERIN, IVAN
from tests.support import ROOT, do, task_for
from web import create_app
from web.config import Settings


@pytest.fixture
def api(db: Database) -> Iterator[Api]:
    users.seed_demo_users(db)
    deploy_change(db)
    app = create_app(Settings(database_url=db.url, secret_key="test-secret"), db=db)
    app.testing = False
    yield Api(app.test_client(), db)


def _change(db: Database) -> str:
    key = instances.start(db, IVAN, "chg", {}).business_key
    do(db, ALICE, key, "register", BIG)
    return key


def test_edit_data_endpoint(api: Api) -> None:
    key = _change(api.db)
    body = {"data": {"estimated_hours": 12}, "reason": "corrected after the CAB call"}
    assert api.post(f"/instances/{key}/data", "carol", json=body).status_code == 403
    missing = api.post(f"/instances/{key}/data", "admin", json={"data": {"estimated_hours": 12}})
    assert missing.status_code == 400 and missing.json["error"]["details"]["fields"] == {"reason": "is required"}
    done = api.post(f"/instances/{key}/data", "admin", json=body)
    assert done.status_code == 200 and done.json["data"]["estimated_hours"] == 12
    events = api.get(f"/instances/{key}/audit", "heidi").json["events"]
    assert events[-1]["type"] == "admin.data_edited" and events[-1]["data"]["reason"] == body["reason"]


def test_reassign_endpoint(api: Api) -> None:
    key = _change(api.db)
    task = task_for(api.db, key, "approve_cab")
    body = {"username": "dave", "reason": "the chair decides"}
    assert api.post(f"/tasks/{task['id']}/reassign", "carol", json=body).status_code == 403
    assert api.post(f"/tasks/{task['id']}/reassign", "admin", json={"username": "dave"}).status_code == 400
    assert api.post(f"/tasks/{task['id']}/reassign", "admin", json={**body, "username": "zed"}).status_code == 404
    done = api.post(f"/tasks/{task['id']}/reassign", "admin", json=body)
    assert done.status_code == 200 and done.json["assignee"] == "dave"
    assert api.post("/tasks/nope/reassign", "admin", json=body).status_code == 404


def test_export_endpoint(api: Api) -> None:
    key = _change(api.db)
    admin.edit_data(api.db, ADMIN, key, {"estimated_hours": 3}, "typo")
    assert api.get("/audit/export", "admin").status_code == 403
    assert api.get("/audit/export?format=xml", "heidi").status_code == 400
    assert api.get("/audit/export?from=yesterday", "heidi").status_code == 400
    today = datetime.now(UTC).date().isoformat()
    jsonl = api.get(f"/audit/export?from={today}&to={today}", "heidi")
    assert jsonl.status_code == 200 and jsonl.mimetype == "application/x-ndjson"
    assert "attachment" in jsonl.headers["Content-Disposition"]
    result = audit_bundle_check.verify_bundle(jsonl.data)
    assert result.ok and result.events > 10
    csv_text = api.get("/audit/export?format=csv", "heidi").data.decode()
    assert csv_text.startswith("seq,at,actor,type") and "admin.data_edited" in csv_text


def test_conformance_and_verify_endpoints(api: Api) -> None:
    key = _change(api.db)
    clean = api.get("/audit/conformance", "heidi").json
    assert clean["ok"] is True and clean["deviations"] == [] and set(clean["summary"].values()) == {0}
    admin.edit_data(api.db, ADMIN, key, {"estimated_hours": 3}, "typo")
    report = api.get("/audit/conformance?process=chg", "admin").json
    assert not report["ok"] and report["deviations"][0]["rule"] == "data_edited"
    assert report["summary"]["data_edited"] == 1
    assert api.get("/audit/conformance", "alice").status_code == 403
    assert api.get("/audit/verify", "heidi").json["ok"] is True


def test_openapi_lists_the_new_routes(api: Api) -> None:
    paths = api.get("/openapi.json").json["paths"]
    assert {"/instances/{id}/data", "/tasks/{id}/reassign", "/audit/export", "/audit/conformance"} <= set(paths)


# --- the command line --------------------------------------------------------------------------------------
def _cli(args: list[str], url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ITSMFLOW_DATABASE_URL": url, "ITSMFLOW_SECRET_KEY": "cli-test"}
    return subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_cli_export_verify_bundle_conformance(sqlite_db: Database, tmp_path: Path) -> None:
    db = sqlite_db
    deploy_change(db)
    key = _change(db)
    do(db, DAVE, key, "approve_cab", {"approved": True})
    do(db, ERIN, key, "implement")
    bundle = tmp_path / "trail.jsonl"
    today = datetime.now(UTC).date().isoformat()
    exported = _cli(["audit", "export", "--from", today, "--to", today, "--output", str(bundle)], db.url)
    assert exported.returncode == 0, exported.stderr
    # verified with no database at all
    ok = _cli(["audit", "verify-bundle", str(bundle)], f"sqlite:///{tmp_path / 'nowhere' / 'none.db'}")
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True
    lines = bundle.read_text().splitlines()
    event = json.loads(lines[5])
    lines[5] = lines[5].replace(f'"actor":"{event["actor"]}"', '"actor":"mallory"')
    bundle.write_text("\n".join(lines) + "\n")
    bad = _cli(["audit", "verify-bundle", str(bundle)], db.url)
    assert bad.returncode == 1 and f"seq {event['seq']}" in bad.stderr
    assert json.loads(bad.stdout)["first_bad_seq"] == event["seq"]
    clean = _cli(["audit", "conformance"], db.url)
    assert clean.returncode == 0 and "no deviations" in clean.stdout
    admin.edit_data(db, ADMIN, _change(db), {"estimated_hours": 3}, "typo in the estimate")
    found = _cli(["audit", "conformance", "--process", "chg", "--from", today], db.url)
    assert found.returncode == 1 and "data_edited" in found.stdout and "typo in the estimate" in found.stdout
    as_json = json.loads(_cli(["audit", "conformance", "--json"], db.url).stdout)
    assert as_json["summary"]["data_edited"] == 1
    assert _cli(["audit", "conformance", "--from", "soon"], db.url).returncode == 2


def test_cli_verify_with_the_checkpoint_file(sqlite_db: Database, checkpoint_file: Path) -> None:
    db = sqlite_db
    deploy_change(db)
    for _ in range(3):
        _change(db)
    written = _cli(["audit", "checkpoint"], db.url)  # what cron (or the worker, every minute) does
    assert written.returncode == 0 and json.loads(written.stdout)["checkpoint"]["anchor"] == 1
    _change(db)
    assert json.loads(_cli(["audit", "checkpoint"], db.url).stdout)["checkpoint"]["anchor"] == 2
    assert _cli(["audit", "verify", "--checkpoints", str(checkpoint_file)], db.url).returncode == 0
    with unit_of_work(db) as uow:  # the last record's chain removed, its head row reset, the last anchor gone
        k = uow.session.execute(text("SELECT chain FROM audit_event ORDER BY seq DESC LIMIT 1")).scalar_one()
        uow.session.execute(text("DELETE FROM audit_event WHERE chain = :k"), {"k": k})
        uow.session.execute(text("DELETE FROM audit_anchor WHERE n = 2"))
        uow.session.execute(text("UPDATE audit_chain SET seq = 0, hash = :h WHERE id = :k"),
                            {"h": audit_chains.genesis(k), "k": k})
        uow.commit()
    with unit_of_work(db) as uow:
        assert audit.verify(uow).ok  # what the database alone can say
    cut = _cli(["audit", "verify", "--checkpoints", str(checkpoint_file)], db.url)
    assert cut.returncode == 1 and "the checkpoint file records anchor 2" in json.loads(cut.stdout)["reason"]
    implicit = _cli(["audit", "verify"], db.url)  # the configured file (ITSMFLOW_AUDIT_CHECKPOINT_FILE)
    assert implicit.returncode == 1


def test_cli_archive(sqlite_db: Database) -> None:
    db = sqlite_db
    deploy_change(db)
    start = datetime.now(UTC) - timedelta(days=3)
    with time_machine.travel(start, tick=False):
        key = _change(db)
        instances.cancel(db, ADMIN, key, "obsolete")
    assert _cli(["archive", "--before", "someday"], db.url).returncode == 2
    done = _cli(["archive", "--before", (start + timedelta(days=1)).date().isoformat(), "--json"], db.url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["archived"] == [key]
    assert "archived 0 instance(s)" in _cli(["archive", "--before", start.date().isoformat()], db.url).stdout
