"""The knowledge pages: bad input gets a message and stores nothing (never a 500); requesters see published
articles only; problems are for the problem team and the service desk."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from engine.db.database import Database, unit_of_work
from engine.services import articles, instances
from tests.conftest import ALICE, HEIDI, IVAN
from tests.web.conftest import sign_in


def _articles(db: Database) -> list[dict[str, object]]:
    with unit_of_work(db) as uow:
        return articles.list_articles(uow, HEIDI)


def test_bad_knowledge_forms_are_messages_not_errors(client: FlaskClient, ui_db: Database) -> None:
    token = sign_in(client, "alice")
    page = client.post("/knowledge/articles", data={"csrf_token": token, "title": "", "body": ""},
                       follow_redirects=True)
    assert page.status_code == 200 and "title is required" in page.get_data(as_text=True)
    assert _articles(ui_db) == []
    page = client.post("/knowledge/problems", data={"csrf_token": token, "title": "Relay", "incidents": "INC-424242"},
                       follow_redirects=True)
    assert page.status_code == 200 and "INC-424242" in page.get_data(as_text=True)
    assert client.get("/knowledge/problems/PRB-999999").status_code == 404
    assert client.get("/knowledge/articles/KB-999999").status_code == 404
    assert client.post("/knowledge/articles/KB-999999/bogus", data={"csrf_token": token}).status_code == 404
    assert client.post("/knowledge/problems", data={"title": "no token"}).status_code == 403  # CSRF
    long_query = client.get("/knowledge", query_string={"q": "x" * 1001})
    assert long_query.status_code == 200 and "at most 1000 characters" in long_query.get_data(as_text=True)
    assert client.get("/knowledge", query_string={"q": '"( NEAR *'}).status_code == 200


def test_requesters_read_published_articles_only(client: FlaskClient, ui_db: Database) -> None:
    draft = articles.create(ui_db, ALICE, {"title": "Draft answer", "body": "not yet"})
    sign_in(client, "ivan")
    assert client.get(f"/knowledge/articles/{draft['key']}").status_code == 404
    page = client.get("/knowledge").get_data(as_text=True)
    assert "Articles under review" not in page and "Open a problem" not in page
    assert client.get("/knowledge/problems/PRB-000001").status_code == 403


def test_a_problem_is_opened_from_a_record(client: FlaskClient, ui_db: Database) -> None:
    key = instances.start(ui_db, IVAN, "response", {"summary": "Scanner sends blank pages"}).business_key
    token = sign_in(client, "alice")
    page = client.get(f"/records/{key}").get_data(as_text=True)
    assert "Open a problem for this record" in page
    form = re.search(r'id="record-open-problem">(.*?)</form>', page, re.S)
    assert form is not None
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(1)))
    opened = client.post("/knowledge/problems", data={**fields, "csrf_token": token}, follow_redirects=True)
    assert opened.status_code == 200 and "Scanner sends blank pages" in opened.get_data(as_text=True)
    assert "PRB-" in client.get(f"/records/{key}").get_data(as_text=True)
    sign_in(client, "ivan")
    assert "Open a problem" not in client.get(f"/records/{key}").get_data(as_text=True)
