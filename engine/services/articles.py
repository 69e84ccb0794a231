"""Knowledge articles: standard answers and how-tos the service desk writes (draft), another member of the
service desk reviews (reviewed) and publishes (published). Only published articles are in the full-text
index; editing one sends it back to draft for a new review. Each article counts how often it was used and
how often it helped (engine/services/knowledge.py records the uses)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models_knowledge import Article
from engine.errors import Conflict, NotFound, ValidationFailed
from engine.services import audit, keys, knowledge_index, policy
from engine.services import knowledge_input as check
from engine.services.actors import Actor
from engine.services.audit import NewEvent

PREFIX = "KB"
STATUSES = ("draft", "reviewed", "published", "retired")
FIELDS = {"title": (True, 200), "body": (True, 20000), "service": (False, 100)}


def view(a: Article) -> dict[str, Any]:
    return {"key": a.key, "kind": "article", "title": a.title, "body": a.body, "service": a.service,
            "status": a.status, "author": a.author, "reviewer": a.reviewer, "publisher": a.publisher,
            "used_count": a.used_count, "helped_count": a.helped_count, "created_at": a.created_at.isoformat(),
            "updated_at": a.updated_at.isoformat(),
            "published_at": a.published_at.isoformat() if a.published_at else None}


def _row(uow: UnitOfWork, key: str) -> Article:
    found = uow.session.execute(select(Article).where(Article.key == key)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no article {key}")
    return found


def _visible(actor: Actor, a: Article) -> bool:
    return a.status == "published" or policy.may_read_known_errors(actor)


def get(uow: UnitOfWork, actor: Actor, key: str) -> dict[str, Any]:
    a = _row(uow, key)
    if not _visible(actor, a):
        raise NotFound(f"no article {key}")  # an unpublished article does not exist for a requester
    return view(a)


def list_articles(uow: UnitOfWork, actor: Actor, status: str | None = None) -> list[dict[str, Any]]:
    stmt = select(Article).order_by(Article.updated_at.desc(), Article.id.desc())
    if status:
        if status not in STATUSES:
            raise ValidationFailed("unknown status", fields={"status": f"must be one of {', '.join(STATUSES)}"})
        stmt = stmt.where(Article.status == status)
    if not policy.may_read_known_errors(actor):
        stmt = stmt.where(Article.status == "published")
    return [view(a) for a in uow.session.execute(stmt.limit(500)).scalars()]


def create(db: Database, actor: Actor, data: Any) -> dict[str, Any]:
    policy.require(actor, "write_knowledge")
    fields = check.texts(check.body(data), FIELDS)
    with unit_of_work(db) as uow:
        now = clock.now()
        a = Article(key=keys.next_key(uow, PREFIX), title=fields["title"], body=fields["body"],
                    service=fields.get("service", ""), status="draft", author=actor.username, used_count=0,
                    helped_count=0, created_at=now, updated_at=now)
        uow.session.add(a)
        uow.session.flush()
        audit.append(uow, [NewEvent("article.written", actor.username, data={"article": a.key, "title": a.title})])
        uow.commit()
        return view(a)


def edit(db: Database, actor: Actor, key: str, data: Any) -> dict[str, Any]:
    policy.require(actor, "write_knowledge")
    fields = check.texts(check.body(data), FIELDS, partial=True)
    if not fields:
        raise ValidationFailed("nothing to change", fields={"title": "give a title, body or service"})
    with unit_of_work(db) as uow:
        a = _row(uow, key)
        if a.status == "retired":
            raise Conflict(f"{key} is retired")
        for name, value in fields.items():
            setattr(a, name, value)
        was = a.status
        a.status, a.reviewer, a.updated_at = "draft", None, clock.now()
        knowledge_index.drop(uow, a.key)  # back to draft: out of the index until published again
        audit.append(uow, [NewEvent("article.edited", actor.username,
                                    data={"article": a.key, "fields": sorted(fields), "was": was})])
        uow.commit()
        return view(a)


def review(db: Database, actor: Actor, key: str) -> dict[str, Any]:
    with unit_of_work(db) as uow:
        a = _row(uow, key)
        policy.check_review_article(actor, a.author)
        if a.status != "draft":
            raise Conflict(f"{key} is {a.status}: only a draft is reviewed")
        a.status, a.reviewer, a.updated_at = "reviewed", actor.username, clock.now()
        audit.append(uow, [NewEvent("article.reviewed", actor.username, data={"article": a.key})])
        uow.commit()
        return view(a)


def publish(db: Database, actor: Actor, key: str) -> dict[str, Any]:
    policy.require(actor, "review_knowledge")
    with unit_of_work(db) as uow:
        a = _row(uow, key)
        if a.status != "reviewed":
            raise Conflict(f"{key} is {a.status}: an article is published once reviewed")
        now = clock.now()
        a.status, a.publisher, a.published_at, a.updated_at = "published", actor.username, now, now
        knowledge_index.put(uow, a.key, a.title, f"{a.body}\n{a.service}")
        audit.append(uow, [NewEvent("article.published", actor.username, data={"article": a.key})])
        uow.commit()
        return view(a)


def retire(db: Database, actor: Actor, key: str) -> dict[str, Any]:
    policy.require(actor, "review_knowledge")
    with unit_of_work(db) as uow:
        a = _row(uow, key)
        if a.status == "retired":
            raise Conflict(f"{key} is already retired")
        a.status, a.updated_at = "retired", clock.now()
        knowledge_index.drop(uow, a.key)
        audit.append(uow, [NewEvent("article.retired", actor.username, data={"article": a.key})])
        uow.commit()
        return view(a)

