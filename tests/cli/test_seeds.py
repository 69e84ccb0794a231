"""Bundled processes are seeds, not masters (issue 13), as an install lives it: `itsmflow deploy processes` is the
deploy step `make run` runs at every start; a process owner works through the HTTP API in between."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from engine.db.database import Database
from tests.cli.test_cli import ROOT, run
from web import create_app
from web.config import Settings

RESPONSE = ROOT / "processes" / "response" / "response.bpmn"


class Install:
    """One database, the CLI run against it, and the API as the owner grace uses it."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.url, self.tmp = url, tmp
        self.db = Database(url)
        self.client: FlaskClient = create_app(Settings(url, "seed-test"), self.db).test_client()
        self.tokens: dict[str, str] = {}

    def cli(self, *args: str, ok: bool = True) -> str:
        result = run(list(args), self.url)
        assert (result.returncode == 0) == ok, result.stdout + result.stderr
        return result.stdout + result.stderr

    def deploy_step(self, folder: Path | None = None, *extra: str) -> dict[str, str]:
        """`itsmflow deploy processes` as `make run` runs it; returns each process's line."""
        out = self.cli("deploy", str(folder or ROOT / "processes"), *extra)
        return {line.split(":", 1)[0]: line for line in out.splitlines() if ":" in line}

    def auth(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            self.tokens[user] = self.cli("token", "create", user).strip()
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str = "grace") -> Any:
        resp = self.client.get(f"/api/v1{path}", headers=self.auth(user))
        assert resp.status_code == 200, resp.json
        return resp.json

    def post(self, path: str, user: str = "grace", status: int = 200, **kw: Any) -> Any:
        resp = self.client.post(f"/api/v1{path}", headers=self.auth(user), **kw)
        assert resp.status_code == status, resp.json
        return resp.json

    def owner_deploys(self, xml: str, comment: str) -> int:
        data = {"bpmn": (io.BytesIO(xml.encode()), "response.bpmn"), "comment": comment}
        return self.post("/processes/response/versions", status=201, data=data)["version"]

    def versions(self, key: str = "response") -> list[dict[str, Any]]:
        return self.get(f"/processes/{key}/versions")


@pytest.fixture
def install(tmp_path: Path) -> Iterator[Install]:
    inst = Install(f"sqlite:///{tmp_path / 'itsmflow.db'}", tmp_path)
    inst.cli("db", "upgrade")
    inst.cli("seed-demo")
    yield inst
    inst.db.dispose()


def bundled_copy(tmp: Path, old: str, new: str) -> Path:
    """The product's processes/ folder with one change in response.bpmn: a newer bundled file."""
    folder = tmp / f"processes-{abs(hash(new)) % 10**6}"
    shutil.copytree(ROOT / "processes", folder)
    target = folder / "response" / "response.bpmn"
    text = target.read_text()
    assert old in text
    target.write_text(text.replace(old, new))
    return folder


def test_the_owners_version_survives_every_start(install: Install) -> None:
    first = install.deploy_step()
    assert first["response"].startswith("response: installed") and "no version yet" in first["response"]
    assert install.versions()[0]["origin"] == "seed"

    # The owner renames a task in the modeller and deploys v2, then v3 (the reproduction).
    xml = RESPONSE.read_text().replace('name="Record and classify"', 'name="Log and classify"')
    assert install.owner_deploys(xml, "our wording") == 2
    assert install.owner_deploys(xml.replace('name="Provide information"', 'name="Answer"'), "shorter") == 3

    again = install.deploy_step()  # the next `make run`
    assert "kept" in again["response"] and "v3 by grace (api) stays in force" in again["response"]
    assert "the one deployed as v1" in again["response"]
    assert again["change"].startswith("change: unchanged")
    versions = install.versions()
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[-1]["deployed_by"] == "grace" and versions[-1]["comment"] == "shorter"
    assert install.get("/proposals") == []  # the bundled file did not change: nothing to review

    # A product update brings a changed bundled response: it is offered, not deployed.
    newer = bundled_copy(install.tmp, 'name="Record and classify"', 'name="Record, classify and link"')
    offered = install.deploy_step(newer)
    assert "proposal #1" in offered["response"] and "v3 by grace (api) stays in force" in offered["response"]
    assert [v["version"] for v in install.versions()] == [1, 2, 3]
    (proposal,) = install.get("/proposals")
    assert (proposal["key"], proposal["status"], proposal["base_version"]) == ("response", "pending", 3)
    assert proposal["diagram_changed"] is True and proposal["tables_changed"] == []

    # Restarting again neither deploys it nor offers it twice.
    assert "already offered as proposal #1" in install.deploy_step(newer)["response"]
    assert len(install.get("/proposals?status=all")) == 1

    # The review shows what the bundled file would change against the owner's v3.
    review = install.get("/proposals/1")
    changed = {e["id"]: e for e in review["diff"]["changed"]}
    assert review["diff"]["base"] == 3 and {"record", "provide_information"} <= set(changed)
    assert {"what": "name", "before": "Log and classify", "after": "Record, classify and link"} in \
        changed["record"]["changes"]

    # Dismissed with a reason: it stays out of the way on later starts.
    install.post("/proposals/1/dismiss", json={"reason": "we keep our own wording"})
    kept = install.deploy_step(newer)
    assert "dismissed by grace (we keep our own wording)" in kept["response"]
    assert install.get("/proposals") == []
    assert install.post("/proposals/1/accept", json={}, status=409)["error"]["code"] == "conflict"


def test_accepting_a_proposal_deploys_it_and_force_replaces_the_owners_version(install: Install) -> None:
    install.deploy_step()
    xml = RESPONSE.read_text().replace('name="Record and classify"', 'name="Log and classify"')
    install.owner_deploys(xml, "ours")
    newer = bundled_copy(install.tmp, 'name="Provide information"', 'name="Provide the information"')
    assert "proposal #1" in install.deploy_step(newer)["response"]

    install.post("/proposals/1/accept", json={"comment": "take the new wording"})
    latest = install.versions()[-1]
    assert (latest["version"], latest["origin"], latest["comment"]) == (3, "proposal", "take the new wording")
    assert install.deploy_step(newer)["response"].startswith("response: unchanged")

    # --force: the bundled files win, even over an owner's version; pending proposals are answered.
    install.owner_deploys(xml, "ours again")
    newest = bundled_copy(install.tmp, 'name="Record and classify"', 'name="Register"')
    assert "proposal #2" in install.deploy_step(newest)["response"]
    forced = install.deploy_step(newest, "--force")
    assert "v5 deployed with --force, replacing v4 by grace (api)" in forced["response"]
    assert install.versions()[-1]["origin"] == "seed"
    assert install.get("/proposals?status=superseded")[0]["id"] == 2


def test_a_table_the_owner_changed_is_kept_and_a_new_bundled_table_is_offered(install: Install) -> None:
    install.deploy_step()
    dmn = (ROOT / "processes" / "response" / "sla.dmn").read_text()

    def annotated(note: str) -> str:  # a rule's annotation changes the table without breaking its examples
        assert '<rule id="sla_p1">' in dmn
        return dmn.replace('<rule id="sla_p1">', f'<rule id="sla_p1"><description>{note}</description>', 1)

    data = {"dmn": (io.BytesIO(annotated("ours").encode()), "sla.dmn"), "comment": "our note"}
    assert install.post("/decisions/sla/versions", status=201, data=data)["version"] == 2

    assert install.deploy_step()["response"].startswith("response: unchanged")
    assert [v["version"] for v in install.get("/decisions/sla/versions")] == [1, 2]

    folder = install.tmp / "with-new-table"
    shutil.copytree(ROOT / "processes", folder)
    (folder / "response" / "sla.dmn").write_text(annotated("bundled"))
    line = install.deploy_step(folder)["response"]
    assert "table file sla.dmn changed: proposal #1" in line
    review = install.get("/proposals/1")
    assert review["diagram_changed"] is False and review["tables_changed"] == ["sla.dmn"]
    (rule,) = review["tables"][0]["diffs"][0]["rules"]
    assert (rule["rule_id"], rule["status"]) == ("sla_p1", "changed")
    assert rule["cells"] == [{"column": "annotation", "before": "ours", "after": "bundled"}]
    accepted = install.post("/proposals/1/accept", json={})
    assert accepted["result"]["decisions"]["sla"] == 3 and "process_version" not in accepted["result"]
    assert [v["version"] for v in install.versions()] == [1]


def test_bad_requests_on_proposals(install: Install) -> None:
    install.deploy_step()
    assert install.client.get("/api/v1/proposals").status_code == 401
    resp = install.client.get("/api/v1/proposals", headers=install.auth("alice"))
    assert resp.status_code == 403
    assert install.client.get("/api/v1/proposals?status=nonsense", headers=install.auth("grace")).status_code == 400
    assert install.client.get("/api/v1/proposals/99", headers=install.auth("grace")).status_code == 404
    resp = install.client.post("/api/v1/proposals/99/dismiss", headers=install.auth("grace"), data="[1]",
                               content_type="application/json")
    assert resp.status_code == 400
    resp = install.client.post("/api/v1/proposals/99/dismiss", headers=install.auth("grace"), json={"reason": 3})
    assert resp.status_code == 400
    resp = install.client.post("/api/v1/proposals/99/dismiss", headers=install.auth("heidi"), json={"reason": "x"})
    assert resp.status_code == 403
