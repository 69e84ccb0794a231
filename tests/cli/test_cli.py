"""The itsmflow command line, run as a user runs it: a real process with a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ITSMFLOW = [sys.executable, "-m", "web.cli"]


def run(args: list[str], db_url: str, **kw) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "ITSMFLOW_DATABASE_URL": db_url, "ITSMFLOW_SECRET_KEY": "cli-test"}
    return subprocess.run(ITSMFLOW + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_every_command_has_help(url: str) -> None:
    for cmd in (["--help"], ["db", "upgrade", "--help"], ["deploy", "--help"], ["user", "add", "--help"],
                ["token", "create", "--help"], ["serve", "--help"], ["worker", "--help"], ["status", "--help"],
                ["audit", "verify", "--help"], ["seed-demo", "--help"], ["migrate", "--help"]):
        result = run(cmd, url)
        assert result.returncode == 0 and "Usage:" in result.stdout, (cmd, result.stderr)


def test_set_up_deploy_users_tokens_and_verify(url: str, tmp_path: Path) -> None:
    assert run(["db", "upgrade"], url).returncode == 0
    deployed = run(["deploy", "processes"], url)
    assert deployed.returncode == 0, deployed.stderr
    assert "response: installed — v1: it had no version yet" in deployed.stdout
    assert "response: unchanged — v1 by cli (seed) in force is the bundled file" in \
        run(["deploy", "processes/response"], url).stdout
    added = run(["user", "add", "nina", "--role", "resolver", "--password", "s3cret-enough"], url)
    assert added.returncode == 0 and "resolver" in added.stdout
    assert run(["user", "add", "nina", "--role", "resolver", "--password", "x"], url).returncode != 0
    assert "unknown role" in run(["user", "add", "olga", "--role", "wizard", "--password", "x" * 12], url).stderr
    token = run(["token", "create", "nina"], url)
    assert token.returncode == 0 and len(token.stdout.strip()) > 30
    assert run(["token", "create", "nobody"], url).returncode != 0
    verified = run(["audit", "verify"], url)
    assert verified.returncode == 0 and '"ok": true' in verified.stdout
    bad = tmp_path / "bad.bpmn"
    bad.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x/>')
    refused = run(["deploy", str(bad)], url)
    assert refused.returncode == 1 and "DOCTYPE" in refused.stderr
    worker = run(["worker", "--once"], url)
    assert worker.returncode == 0 and "fired timers on 0" in worker.stdout
    shown = run(["status"], url).stdout
    assert "due timers: 0" in shown and "dead letters: 0" in shown


def test_audit_verify_fails_on_tampering(url: str) -> None:
    run(["db", "upgrade"], url)
    run(["deploy", "processes/response"], url)
    import sqlite3

    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    con.execute("UPDATE audit_event SET actor = 'mallory' WHERE seq = 1")
    con.commit()
    con.close()
    result = run(["audit", "verify"], url)
    assert result.returncode == 1 and '"first_bad_seq": 1' in result.stdout


def test_account_names_and_passwords_are_checked(url: str) -> None:
    assert run(["db", "upgrade"], url).returncode == 0
    for name in ("<b>x</b>", "two\nlines", "", "Upper"):
        refused = run(["user", "add", name, "--password", "long enough pass"], url)
        assert refused.returncode != 0 and "user name" in refused.stderr, name
    for password in ("", "short"):
        refused = run(["user", "add", "olga", "--password", password], url)
        assert refused.returncode != 0 and "at least 10 characters" in refused.stderr
    assert run(["user", "add", "olga", "--password", "long enough pass"], url).returncode == 0
    assert run(["token", "create", "olga"], url).returncode == 0
    revoked = run(["token", "revoke", "olga"], url)
    assert revoked.returncode == 0 and "revoked 1 token(s) of olga" in revoked.stdout
