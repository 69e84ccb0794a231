"""`itsmflow user list|roles|deactivate|reactivate|password`, run as a user runs it, checked through the API."""

from __future__ import annotations

import json
from pathlib import Path

from engine.db.database import Database
from tests.cli.test_cli import run
from web import create_app
from web.config import Settings


def test_account_acts_on_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run(["db", "upgrade"], url).returncode == 0
    assert run(["seed-demo"], url).returncode == 0
    client = create_app(Settings(url, "cli-accounts"), Database(url)).test_client()

    def sign_in(user: str, password: str = "demo") -> int:
        return client.post("/api/v1/tokens", json={"username": user, "password": password}).status_code

    token = client.post("/api/v1/tokens", json={"username": "bob", "password": "demo"}).json["token"]
    no_reason = run(["user", "deactivate", "bob"], url)
    assert no_reason.returncode != 0 and "--reason" in no_reason.stderr
    off = run(["user", "deactivate", "bob", "--reason", "left"], url)
    assert off.returncode == 0 and "bob: deactivated" in off.stdout, off.stderr
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert sign_in("bob") == 401
    listed = json.loads(run(["user", "list", "--json"], url).stdout)
    assert {u["username"]: u["active"] for u in listed}["bob"] is False
    assert "DEACTIVATED" in run(["user", "list"], url).stdout
    on = run(["user", "reactivate", "bob", "--reason", "back"], url)
    assert on.returncode == 0 and "bob: active" in on.stdout
    assert sign_in("bob") == 201

    roles = run(["user", "roles", "bob", "resolver", "cab", "--reason", "joins the board"], url)
    assert roles.returncode == 0 and "roles cab, requester, resolver" in roles.stdout, roles.stderr
    unknown = run(["user", "roles", "bob", "wizard", "--reason", "x"], url)
    assert unknown.returncode != 0 and "unknown role(s): wizard" in unknown.stderr
    last = run(["user", "deactivate", "admin", "--reason", "x"], url)
    assert last.returncode != 0 and "last active administrator" in last.stderr
    short = run(["user", "password", "bob", "--reason", "forgot", "--password", "short"], url)
    assert short.returncode != 0 and "at least" in short.stderr
    reset = run(["user", "password", "bob", "--reason", "forgot", "--password", "a-long-new-one"], url)
    assert reset.returncode == 0, reset.stderr
    assert sign_in("bob", "a-long-new-one") == 201

    trail = run(["audit", "export"], url)
    kinds = [json.loads(line)["type"] for line in trail.stdout.splitlines() if '"admin.' in line]
    assert kinds == ["admin.account_deactivated", "admin.account_reactivated", "admin.roles_changed",
                     "admin.password_reset"], trail.stderr
