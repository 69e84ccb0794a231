"""Browser tests: a real server (werkzeug, in a thread, on a free port, over a fresh SQLite database per test)
driven by the system's Chromium through Playwright. Chromium missing or not starting FAILS these tests with the
reason; it never skips them."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from engine.db.database import Database
from tests.web.support import build_template, fresh_db
from web import create_app
from web.config import Settings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("ITSMFLOW_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
VENDOR = ROOT / "web" / "static" / "vendor"
SHOTS = ROOT / "docs" / "screenshots"



def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test: `-m "not browser"` deselects them, on purpose."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@dataclass
class Live:
    url: str
    db: Database
    errors: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)  # messages a test provokes on purpose (a 422, say)
    stop: Callable[[], None] = lambda: None  # shuts the server down early (a test that restarts it)

    def note(self, text: str) -> None:
        if not any(e in text for e in self.expected):
            self.errors.append(text)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `make browser-deps` "
                    "(apt-get install -y --no-install-recommends chromium) or set ITSMFLOW_CHROMIUM", pytrace=False)
    missing = [n for n in ("modeler.js", "viewer.js", "dmn.js") if not (VENDOR / n).exists()]
    if missing:
        pytest.fail(f"the front-end bundles are not built ({', '.join(missing)} missing in {VENDOR}): "
                    "run `npm ci && npm run build` (or `make setup`)", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(f"the playwright package is missing ({exc}): `.venv/bin/pip install playwright==1.58.0`",
                    pytrace=False)
    with sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 - any launch failure is reported as it is
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {exc}", pytrace=False)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def browser_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(sqlite_template, tmp_path_factory.mktemp("browser") / "template.db")


@pytest.fixture
def live(browser_template: Path, tmp_path: Path) -> Iterator[Live]:
    """The app served on 127.0.0.1:<free port> over its own database, for one test."""
    db = fresh_db(browser_template, tmp_path)
    app = create_app(Settings(db.url, "browser-test-secret"), db)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=5)

    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", db, stop=stop)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        db.dispose()


@pytest.fixture
def page(browser: Any, live: Live) -> Iterator[Any]:
    """A fresh browser context per test; JavaScript errors and CSP violations fail the test."""
    context = browser.new_context(base_url=live.url, viewport={"width": 1440, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.on("pageerror", lambda exc: live.note(f"page error: {exc}"))
    tab.on("console", lambda msg: live.note(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    tab.on("response", lambda r: live.note(f"HTTP {r.status} for {r.request.method} {r.url}")
           if r.status >= 400 else None)
    yield tab
    context.close()
    assert not live.errors, "the browser reported errors:\n" + "\n".join(live.errors)


def sign_in(page: Any, username: str, password: str = "demo") -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector(".who-name")


def sign_out(page: Any) -> None:
    page.click(".who button")
    page.wait_for_selector("#username")


def shot(page: Any, name: str, **kwargs: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), **kwargs)
