"""Done when (issue 13): an owner edits a diagram, saves a draft, deploys it with a comment, the server restarts
the README's way (`make run`, whose deploy step installs the bundled processes), and the owner's version is
still in force, with the bundled response offered as a proposal instead of replacing it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from engine.db.database import unit_of_work
from engine.services import deploy
from tests.browser.conftest import ROOT, Live, shot, sign_in

RENAME_AND_ADD = """() => {
  const m = window.modeler;
  const registry = m.get('elementRegistry');
  const modeling = m.get('modeling');
  modeling.updateProperties(registry.get('restore'), { name: 'Restore the service' });
  const pool = registry.get('response_participant');
  const note = modeling.createShape({ type: 'bpmn:UserTask' }, { x: 900, y: 140 }, pool);
  modeling.updateProperties(note, { id: 'follow_up', name: 'Follow up later' });
}"""
NAME_OF = "(id) => { const e = window.modeler.get('elementRegistry').get(id); return e && e.businessObject.name; }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # our own server on 127.0.0.1
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"`make run` did not serve {url} in {seconds}s:\n{log.read_text()[-4000:]}")


def make_run(db_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`make run` as the README says, on another port and over the test's database."""
    env = {**os.environ, "ITSMFLOW_DATABASE_URL": db_url, "ITSMFLOW_SECRET_KEY": "restarted-server"}
    return subprocess.Popen(["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}"], cwd=ROOT,
                            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)  # make, its worker and gunicorn: the group this test started
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_owner_drafts_deploys_with_a_comment_and_keeps_the_version_across_make_run(
        page: Any, live: Live, tmp_path: Path) -> None:
    sign_in(page, "grace")
    page.click("#process-response a:has-text('Edit in modeller')")
    page.wait_for_selector("#modeller-root[data-ready=true]")
    assert page.inner_text("#version-label") == "editing v1"
    page.evaluate(RENAME_AND_ADD)
    page.wait_for_selector("#dirty-flag:not([hidden])")

    page.click("#btn-save-draft")
    page.wait_for_selector("#editor-status.is-ok")
    assert "Draft saved" in page.inner_text("#editor-status") and "not deployed" in page.inner_text("#editor-status")
    assert page.locator("g.djs-element.itsm-warning[data-element-id=follow_up]").count() == 1  # disconnected
    with unit_of_work(live.db) as uow:
        assert deploy.latest(uow, "response").version == 1  # type: ignore[union-attr]

    # Later: the processes page lists the draft, and the modeller offers it.
    page.goto("/processes")
    assert "Draft by grace" in page.inner_text("#process-response .draft-list")
    page.click("#process-response .draft-list a:has-text('open')")
    page.wait_for_selector("#modeller-root[data-ready=true]")
    assert page.inner_text("#version-label").startswith("editing your draft")
    assert page.evaluate(NAME_OF, "restore") == "Restore the service"

    page.click("#btn-deploy")
    page.wait_for_selector("#deploy-dialog:not([hidden])")
    warning = page.inner_text("#warning-list li[data-element-id=follow_up]")
    assert "no sequence flow leads here" in warning
    page.fill("#deploy-comment", "Clearer wording for the resolvers")
    shot(page, "modeller-deploy-dialog")
    page.click("#btn-deploy-confirm")
    page.wait_for_selector("#editor-status.is-ok")
    assert "version 2" in page.inner_text("#editor-status")
    assert page.inner_text("#version-label") == "editing v2"
    assert page.inner_text("#btn-deploy") == "Deploy as v3…"

    page.goto("/processes")
    assert page.locator("#process-response .draft-list").count() == 0  # deployed: the draft is done
    # The server restarts the README's way.
    live.stop()
    port = free_port()
    log = tmp_path / "make-run.log"
    proc = make_run(live.db.url, port, log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/login", 120, log)
        output = log.read_text()
        assert "response: proposed — v2 by grace (modeller) stays in force" in output, output
        page.goto(f"{base}/login")
        page.fill("#username", "grace")
        page.fill("#password", "demo")
        page.click("button[type=submit]")
        page.wait_for_selector(".who-name")
        page.goto(f"{base}/processes")
        row = page.locator("#process-response")
        assert row.locator("td").nth(1).inner_text() == "v2"
        page.click("#process-response details.versions summary")
        version = page.inner_text("#process-response li[data-version='2']")
        assert "Clearer wording for the resolvers" in version and "(modeller)" in version
        assert "#" in page.inner_text("#proposals") and "response" in page.inner_text("#proposals")
        shot(page, "processes-after-restart")
        page.goto(f"{base}/processes/response/modeller")
        page.wait_for_selector("#modeller-root[data-ready=true]")
        assert page.inner_text("#version-label") == "editing v2"
        assert page.evaluate(NAME_OF, "restore") == "Restore the service"
    finally:
        stop(proc)
