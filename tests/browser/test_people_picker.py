"""Requesters and reporters are picked from the accounts (issue 12), in a real browser over the shipped
processes: the service desk raises an incident, picks who reported it on the triage form, and the incident record
starts with that account as its reporter (whose confirmation it will be)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from engine.db.database import unit_of_work
from engine.db.models import ProcessInstance
from engine.services import users
from tests.browser.conftest import Live, shot, sign_in
from tests.support import instance
from tests.web.support import fresh_db, open_task
from tests.web.test_real_processes import deploy_shipped
from web import create_app
from web.config import Settings


@pytest.fixture
def live(sqlite_template: Path, tmp_path: Path) -> Iterator[Live]:
    """The shipped processes and the demo users, plus an account with a display name to pick."""
    db = fresh_db(sqlite_template, tmp_path)
    users.seed_demo_users(db)
    users.add_user(db, "jo.finance", "a-long-password", ["requester"], display_name="Jo Adeyemi")
    deploy_shipped(db)
    server = make_server("127.0.0.1", 0, create_app(Settings(db.url, "browser-test-secret"), db), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", db)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        db.dispose()


def test_the_desk_picks_the_reporter_and_the_record_starts_with_that_account(page: Any, live: Live) -> None:
    sign_in(page, "alice")
    page.goto("/new")
    page.click("text=Raise an incident")
    page.fill("#f-summary", "Finance cannot print invoices")
    page.fill("#f-service", "print")
    page.select_option("#f-impact", "medium")
    page.select_option("#f-urgency", "high")
    page.click("#start-form button[type=submit]")

    page.wait_for_selector("h1:has-text('Register the record')")  # triage's registration: the desk's next step
    page.click("button:has-text('Claim')")
    page.wait_for_selector("#assignee:has-text('alice')")
    picker = page.locator("select#f-reporter")
    assert picker.count() == 1, "the reporter is picked from the accounts, not typed"
    assert picker.input_value() == "alice"  # whoever raised it, until the desk picks the person it is for
    labels = picker.locator("option").all_inner_texts()
    assert "Jo Adeyemi (jo.finance)" in labels and "ivan" in labels
    picker.select_option(label="Jo Adeyemi (jo.finance)")
    assert page.input_value("#f-record_kind") == "incident"
    shot(page, "reporter-picker")
    page.click("#task-form button[type=submit]")
    page.wait_for_selector(".flash-ok")

    with unit_of_work(live.db) as uow:
        incidents = [i for i in uow.session.execute(select(ProcessInstance)).scalars() if i.process_key == "response"]
        assert [i.business_key[:4] for i in incidents] == ["INC-"]
        key = incidents[0].business_key
    assert instance(live.db, key)["data"]["reporter"] == "jo.finance"
    assert open_task(live.db, key, "record")  # the incident waits for the desk to record it
