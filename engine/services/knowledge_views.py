"""What the knowledge API and pages read (search, problems, articles), as plain dicts: one unit of work each, so
no session or ORM row reaches web/."""

from __future__ import annotations

from typing import Any

from engine.db.database import Database, unit_of_work
from engine.services import articles, knowledge, policy, problems
from engine.services.actors import Actor


def search(db: Database, actor: Actor, query: str, kinds: list[str] | None = None, match_all: bool = True,
           limit: int = 20) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return knowledge.search(uow, actor, query, kinds, match_all, limit)


def problem_list(db: Database, actor: Actor, status: str | None = None) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return problems.list_problems(uow, actor, status)


def problem(db: Database, actor: Actor, key: str) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        return problems.get(uow, actor, key)


def article_list(db: Database, actor: Actor, status: str | None = None) -> list[dict[str, Any]]:
    with unit_of_work(db, readonly=True) as uow:
        return articles.list_articles(uow, actor, status)


def article(db: Database, actor: Actor, key: str) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        return articles.get(uow, actor, key)


def work_in_hand(db: Database, actor: Actor) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The knowledge page's lists: articles awaiting review or publishing (staff who read known errors) and open
    problems (those who work problems); empty for the others."""
    with unit_of_work(db, readonly=True) as uow:
        pending = [a for a in articles.list_articles(uow, actor) if a["status"] in ("draft", "reviewed")
                   ] if policy.may_read_known_errors(actor) else []
        open_problems = [p for p in problems.list_problems(uow, actor) if p["status"] != "closed"
                         ] if policy.may(actor, "problems") else []
        return pending, open_problems
