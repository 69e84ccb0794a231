"""`itsmflow seed-demo` adds the demo catalogue, which the shipped processes then use end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import delete, select

from engine.db.cmdb import RecordCi, RecordService
from engine.db.database import Database, unit_of_work
from engine.services import catalogue, cmdb, instances
from tests.conftest import CORA
from tests.support import deploy_process

ROOT = Path(__file__).resolve().parents[2]


def test_seed_demo_adds_a_catalogue_the_shipped_processes_use(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    env = {**os.environ, "ITSMFLOW_DATABASE_URL": url, "ITSMFLOW_SECRET_KEY": "cli-test"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=180)

    assert run("db", "upgrade").returncode == 0
    first = run("seed-demo")
    assert first.returncode == 0, first.stderr
    assert "demo catalogue: 6 services, 11 configuration items; added 20 objects" in first.stdout
    again = run("seed-demo")
    assert again.returncode == 0 and "(all there already)" in again.stdout
    db = Database(url)
    try:
        with unit_of_work(db, readonly=True) as uow:
            services = {s["id"]: s for s in catalogue.list_services(uow)}
            assert sorted(services) == ["donor-crm", "email", "file-shares", "finance", "network", "website"]
            assert [s for s, v in services.items() if v["donor_facing"]] == ["donor-crm", "website"]
            assert cmdb.get(uow, "donation-form")["depends_on"] == ["crm-app", "web-cms"]
            assert len(cmdb.list_items(uow, service="donor-crm")) == 3
        deploy_process(db, "change")
        rfc = instances.start(db, CORA, "change", {"title": "New donation page", "description": "Christmas appeal",
                                                   "service": "Website", "affected_cis": "donation-form",
                                                   "requester": "ivan"})
        assert (rfc.business_key.startswith("RFC-"))
        with unit_of_work(db, readonly=True) as uow:
            data = instances.view(uow, rfc)["data"]
        assert (data["service"], data["donor_facing"], data["affected_cis"]) == ("website", True, "donation-form")

        # An install upgraded with records already there: their index rows are rebuilt from their data.
        with unit_of_work(db) as uow:
            uow.session.execute(delete(RecordCi))
            uow.session.execute(delete(RecordService))
            uow.commit()
        done = run("reindex")
        assert done.returncode == 0 and "reindexed 1 records" in done.stdout
        with unit_of_work(db, readonly=True) as uow:
            assert [tuple(r) for r in uow.session.execute(select(RecordCi.ci_id, RecordService.service_id).join(
                RecordService, RecordService.instance_id == RecordCi.instance_id))] == [("donation-form", "website")]
    finally:
        db.dispose()
