"""The knowledge search, the suggestions on first-line restoration and an article's review in a real browser."""

from __future__ import annotations

from typing import Any

from engine.services import articles, instances, problems, tasks, users
from engine.services.actors import Actor
from tests.browser.conftest import Live, shot, sign_in, sign_out
from tests.conftest import ALICE, IVAN
from tests.support import deploy_process

PAT = Actor("pat", frozenset({"problem_team", "requester"}))
SAM = Actor("sam", frozenset({"service_desk", "requester"}))
MAIL = {"summary": "Mail does not arrive in Lagos", "description": "Since 8:00 nothing arrives", "service": "mail",
        "reporter": "ivan", "query_type": "incident", "impact": "medium", "urgency": "medium"}


def _incident(live: Live) -> tuple[str, str]:
    inst = instances.start(live.db, IVAN, "response", {})
    with_task = tasks.claim(live.db, ALICE, [t.id for t in instances_tasks(live, inst.business_key)][0])
    done = tasks.complete(live.db, ALICE, with_task["id"], MAIL)
    return inst.business_key, done["next_tasks"][0]["id"]


def instances_tasks(live: Live, key: str) -> list[Any]:
    from engine.db.database import unit_of_work

    with unit_of_work(live.db) as uow:
        return list(instances.tasks_of(uow, instances.find(uow, ALICE, key)))


def _seed(live: Live) -> tuple[str, str]:
    deploy_process(live.db, "response")  # the shipped diagram: it declares the suggestions at first line
    users.add_user(live.db, "pat", "demo", ["problem_team"])
    users.add_user(live.db, "sam", "demo", ["service_desk"])
    first, _ = _incident(live)
    problem = problems.create(live.db, PAT, {"title": "Lagos relay queue fills", "incidents": [first]})
    known = problems.record_known_error(live.db, PAT, problem["key"], {
        "symptom": "Mail does not arrive in the Lagos office", "workaround": "Restart the Lagos relay"})
    article = articles.create(live.db, ALICE, {"title": "Checking mail delivery", "body": "Ask the user to send a "
                                                "test mail to echo@example.org; a reply within a minute means mail "
                                                "arrives.", "service": "mail"})
    articles.review(live.db, SAM, article["key"])
    articles.publish(live.db, SAM, article["key"])
    return known["known_error"]["key"], article["key"]


def test_search_and_first_line_suggestions(page: Any, live: Live) -> None:
    ke, kb = _seed(live)
    second, task_id = _incident(live)
    sign_in(page, "alice")
    page.click("nav.main-nav >> text=Knowledge")
    page.fill("#knowledge-q", "mail arrive")
    page.click("form.knowledge-search button")
    page.wait_for_selector("#knowledge-results")
    found = [page.locator("#knowledge-results .knowledge-hit").nth(i).get_attribute("data-key")
             for i in range(page.locator("#knowledge-results .knowledge-hit").count())]
    assert set(found) == {ke, kb}
    assert "Restart the Lagos relay" in page.inner_text("#knowledge-results")
    shot(page, "knowledge-search", full_page=True)
    page.fill("#knowledge-q", "printer toner")
    page.click("form.knowledge-search button")
    page.wait_for_selector(".empty-state")

    page.goto(f"/tasks/{task_id}")
    box = page.locator("#knowledge-suggestions")
    assert box.locator(f".knowledge-hit[data-key='{ke}']").count() == 1
    box.locator(f".knowledge-hit[data-key='{ke}'] button[value=yes]").click()
    page.wait_for_selector(".flash-ok")
    assert "Recorded on this record" in page.inner_text(f"#knowledge-suggestions .knowledge-hit[data-key='{ke}']")
    shot(page, "knowledge-task-suggestions", full_page=True)
    page.goto(f"/records/{second}")
    assert ke in page.content()  # the trail shows what was used
    assert "Lagos relay queue fills" in page.inner_text("#record-problems")  # it helped: the problem explains it
    sign_out(page)

    # Requesters find published articles, not known errors.
    sign_in(page, "ivan")
    page.goto("/knowledge?q=mail+arrive")
    page.wait_for_selector("#knowledge-results")
    assert page.locator("#knowledge-results .knowledge-hit").count() == 1
    assert page.locator(f".knowledge-hit[data-key='{kb}']").count() == 1


def test_an_article_is_written_then_reviewed_by_someone_else(page: Any, live: Live) -> None:
    users.add_user(live.db, "sam", "demo", ["service_desk"])
    sign_in(page, "alice")
    page.goto("/knowledge")
    page.click("text=Write an article")
    page.fill("#a-title", "Resetting a VPN token")
    page.fill("#a-body", "Open the portal, choose Security, then Reset token.")
    page.click("#article-form button[type=submit]")
    page.wait_for_selector("#article-status")
    assert page.inner_text("#article-status") == "draft"
    assert page.locator("text=Mark reviewed").count() == 0  # not by its author
    key = page.url.rsplit("/", 1)[1]
    sign_out(page)
    sign_in(page, "sam")
    page.goto(f"/knowledge/articles/{key}")
    page.click("button:text-is('Mark reviewed')")
    page.wait_for_selector("#article-status:text-is('reviewed')")
    page.click("button:text-is('Publish')")
    page.wait_for_selector("#article-status:text-is('published')")
    page.goto("/knowledge?q=vpn+token")
    assert page.locator(f".knowledge-hit[data-key='{key}']").count() == 1
