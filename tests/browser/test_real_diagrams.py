"""The diagrams shipped in processes/ open cleanly in the browser: in the modeller (Camunda moddle and properties
panel, no import warnings) and on a record page with its path marked."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from engine.services import instances, users
from tests.browser.conftest import Live, sign_in
from tests.conftest import IVAN
from tests.web.support import fresh_db
from tests.web.test_real_processes import deploy_shipped
from web import create_app
from web.config import Settings


@pytest.fixture
def live(sqlite_template: Path, tmp_path: Path) -> Iterator[Live]:
    """Overrides the stable fixtures of the other browser tests: the real processes, as shipped."""
    db = fresh_db(sqlite_template, tmp_path)
    users.seed_demo_users(db)
    keys = deploy_shipped(db)
    server = make_server("127.0.0.1", 0, create_app(Settings(db.url, "browser-test-secret"), db), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        live = Live(f"http://127.0.0.1:{server.server_port}", db)
        live.keys = keys  # type: ignore[attr-defined]
        yield live
    finally:
        server.shutdown()
        thread.join(timeout=5)
        db.dispose()


def test_shipped_diagrams_open_in_the_modeller(page: Any, live: Live) -> None:
    sign_in(page, "grace")
    for key in live.keys:  # type: ignore[attr-defined]
        page.goto(f"/processes/{key}/modeller")
        page.wait_for_selector("#modeller-root[data-ready=true]")
        assert page.inner_text("#editor-status") == "", f"{key}: {page.inner_text('#editor-status')}"
        assert page.locator("#canvas g.djs-element").count() > 5, key


def test_a_shipped_record_shows_where_it_waits(page: Any, live: Live) -> None:
    key = instances.start(live.db, IVAN, "response", {"summary": "Mail is down"}).business_key
    sign_in(page, "heidi")
    page.goto(f"/records/{key}")
    page.wait_for_selector("#diagram[data-ready=true]")
    assert page.locator("g.djs-element.itsm-completed").count() >= 1
    assert page.locator("g.djs-element.itsm-active").count() >= 1
