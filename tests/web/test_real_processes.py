"""The pages over the processes shipped in processes/ (whatever their current shape): every diagram opens in
the modeller, diff and record pages, and a record raised from each start form shows its first task's form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from engine.db.database import Database, unit_of_work
from engine.services import deploy, starting, tasks
from engine.services.bundles import folder_bundle, process_folders
from tests.conftest import HEIDI, PROCESSES
from tests.support import OWNER
from tests.web.conftest import make_app, sign_in
from tests.web.support import fresh_db

START_DATA = {
    "incident": {"summary": "Mail is down", "service": "mail", "description": "no mail since 9",
                 "impact": "high", "urgency": "high"},
    "request": {"summary": "Access to the CRM", "service": "crm", "impact": "low", "urgency": "medium"},
    "question": {"summary": "Where is the VPN guide?", "service": "vpn", "impact": "low", "urgency": "low"},
    "change": {"title": "Upgrade the mail server", "service": "mail", "description": "to the next version",
               "estimated_hours": "8", "users_affected": "300", "backout_plan": "restore the snapshot"},
}


def deploy_shipped(db: Database) -> list[str]:
    keys = []
    for folder in process_folders(PROCESSES):
        bundle = folder_bundle(folder)
        assert bundle is not None
        keys.append(deploy.deploy(db, bundle, OWNER).key)
    return keys


@pytest.fixture
def shipped(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[FlaskClient, Database, list[str]]]:
    from engine.services import users

    db = fresh_db(sqlite_template, tmp_path)
    users.seed_demo_users(db)
    keys = deploy_shipped(db)
    yield make_app(db).test_client(), db, keys
    db.dispose()


def test_every_shipped_diagram_opens(shipped: tuple[FlaskClient, Database, list[str]]) -> None:
    client, _, keys = shipped
    assert "response" in keys
    sign_in(client, "grace")
    html = client.get("/processes").get_data(as_text=True)
    for key in keys:
        assert f'id="process-{key}"' in html
        assert client.get(f"/processes/{key}/modeller").status_code == 200
        assert client.get(f"/processes/{key}/diff?base=0").status_code == 200


@pytest.mark.parametrize("kind", list(START_DATA))
def test_a_record_raised_from_each_start_form_shows_its_first_form(
        shipped: tuple[FlaskClient, Database, list[str]], kind: str) -> None:
    client, db, _ = shipped
    with unit_of_work(db) as uow:
        process = starting.option(uow, kind).process
    token = sign_in(client, "admin")
    response = client.post(f"/new/{kind}", data={"csrf_token": token, **START_DATA[kind]})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    assert location.startswith("/records/"), location  # admin holds none of the roles of a first task
    assert client.get(location).status_code == 200
    key = location.rsplit("/", 1)[1]
    with unit_of_work(db) as uow:  # read, then close: SQLite allows one open transaction at a time
        open_tasks = tasks.list_tasks(uow, HEIDI, "all", limit=500)
        forms = {t.id: (t.element_id, tasks.get(uow, HEIDI, t.id)["form"])
                 for t in open_tasks if t.business_key == key}
    assert forms, "the new record has no open task"
    for task_id, (element_id, form) in forms.items():
        html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
        for field in form:
            assert f'id="f-{field["id"]}"' in html, f"{process}/{element_id}: no control for {field['id']}"
