"""One way into the knowledge: full-text search over known errors and published articles, the suggestions a
task shows, and the record of one being used on a record.

A task shows suggestions when its diagram element declares them (docs/modelling.md):
  knowledge.suggest = known_errors, articles      which kinds it offers
  knowledge.text    = summary, description, service   the record fields whose words are the search
Using one is a `knowledge.used` event in the record's trail and counts on the item (used, helped); a known
error that helped links the record to its problem (while the problem is open): the problem explains it too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import HumanTask
from engine.db.models_knowledge import Article, KnowledgeUse, KnownError, Problem
from engine.diagram.metadata import ElementMeta
from engine.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from engine.services import articles, audit, knowledge_index, policy, problems
from engine.services.actors import Actor
from engine.services.audit import NewEvent

KINDS = {"known_errors": problems.KNOWN_ERROR_PREFIX + "-", "articles": articles.PREFIX + "-"}
SUGGEST = "knowledge.suggest"
TEXT = "knowledge.text"
DEFAULT_TEXT = ("summary", "description")
SUGGESTIONS = 5


def _prefixes(actor: Actor, kinds: list[str]) -> tuple[str, ...]:
    allowed = [k for k in kinds if k in KINDS and (k == "articles" or policy.may_read_known_errors(actor))]
    return tuple(KINDS[k] for k in allowed)


def _items(uow: UnitOfWork, item_keys: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    if not item_keys:
        return found
    for ke, p in uow.session.execute(select(KnownError, Problem).join(Problem, KnownError.problem_id == Problem.id)
                                     .where(KnownError.key.in_(item_keys))):
        found[ke.key] = problems.known_error_view(ke, p)
    for a in uow.session.execute(select(Article).where(Article.key.in_(item_keys), Article.status == "published")
                                 ).scalars():
        found[a.key] = articles.view(a)
    return found


def search(uow: UnitOfWork, actor: Actor, query: str, kinds: list[str] | None = None, match_all: bool = True,
           limit: int = 20) -> list[dict[str, Any]]:
    """Known errors (staff only) and published articles matching `query`, best first, each with its rank."""
    unknown = [k for k in kinds or [] if k not in KINDS]
    if unknown:
        raise ValidationFailed("unknown kind", fields={"kind": f"must be one of {', '.join(KINDS)}"})
    if len(query) > 1000:
        raise ValidationFailed("the search is too long", fields={"q": "must be at most 1000 characters"})
    hits = knowledge_index.search(uow, query, _prefixes(actor, kinds or list(KINDS)), match_all, limit)
    items = _items(uow, [h.item_key for h in hits])
    return [{**items[h.item_key], "rank": round(h.rank, 6)} for h in hits if h.item_key in items]


# ------------------------------------------------------------------------------------------------ on tasks

def _names(value: str) -> list[str]:
    return [n.strip() for n in value.split(",") if n.strip()]


def declared(el: ElementMeta | None) -> bool:
    return el is not None and bool(_names(el.properties.get(SUGGEST, "")))


def query_of(el: ElementMeta, data: dict[str, Any]) -> str:
    fields = _names(el.properties.get(TEXT, "")) or list(DEFAULT_TEXT)
    return " ".join(str(data[f]) for f in fields if isinstance(data.get(f), str | int | float))


def for_task(uow: UnitOfWork, actor: Actor, el: ElementMeta, data: dict[str, Any],
             instance_id: int) -> dict[str, Any]:
    """What a task that declares suggestions shows: the words searched, the best matches (any word), and
    which of them were already used on this record."""
    query = query_of(el, data)
    kinds = [k for k in _names(el.properties.get(SUGGEST, "")) if k in KINDS]
    found = search(uow, actor, query, kinds, match_all=False, limit=SUGGESTIONS) if kinds else []
    used = set(uow.session.execute(select(KnowledgeUse.item_key).where(KnowledgeUse.instance_id == instance_id)
                                   ).scalars())
    return {"query": query, "kinds": kinds, "suggestions": [{**f, "used_here": f["key"] in used} for f in found]}


def use(db: Database, actor: Actor, task_id: str, data: Any) -> dict[str, Any]:
    """Records that the person working a task used a known error or article, and whether it helped."""
    if not isinstance(data, dict):
        raise ValidationFailed("the request body must be a JSON object", fields={"key": "is required"})
    key, helped = data.get("key"), data.get("helped", True)
    errors = {}
    if not isinstance(key, str) or not key.strip():
        errors["key"] = "name the known error or article (its key)"
    if not isinstance(helped, bool):
        errors["helped"] = "must be true or false"
    if errors:
        raise ValidationFailed("some fields are not valid", fields=errors)
    with unit_of_work(db) as uow:
        task = uow.session.get(HumanTask, task_id)
        if task is None:
            raise NotFound(f"no open task {task_id} (it may have been completed)")
        if not policy.task_actions(uow, actor, task)["may_work"]:
            raise NotAllowed("only the person working this task records what they used")
        wanted = str(key).strip()  # a non-empty string: checked above
        item = _items(uow, [wanted]).get(wanted)
        if item is None or not _prefixes(actor, [item["kind"] + "s"]):
            raise ValidationFailed("no such known error or published article", fields={"key": f"unknown: {key}"})
        seen = uow.session.execute(select(KnowledgeUse.id).where(KnowledgeUse.instance_id == task.instance_id,
                                                                 KnowledgeUse.item_key == item["key"])).first()
        if seen is not None:
            raise Conflict(f"{item['key']} is already recorded on {task.business_key}")
        uow.session.add(KnowledgeUse(item_key=item["key"], instance_id=task.instance_id, element_id=task.element_id,
                                     username=actor.username, helped=helped, at=clock.now()))
        row: Any = (uow.session.execute(select(KnownError).where(KnownError.key == item["key"])).scalar_one_or_none()
                    or uow.session.execute(select(Article).where(Article.key == item["key"])).scalar_one())
        row.used_count += 1
        row.helped_count += int(helped)
        events = [NewEvent("knowledge.used", actor.username, task.instance_id, task.element_id, task.name,
                           {"item": item["key"], "kind": item["kind"], "title": item["title"],
                            "helped": helped, "task_id": task_id})]
        if isinstance(row, KnownError) and helped:
            events += problems.explains(uow, actor, row.problem_id, task.instance_id, task.business_key)
        audit.append(uow, events)
        uow.commit()
        return {"item": item["key"], "record": task.business_key, "helped": helped,
                "used_count": row.used_count, "helped_count": row.helped_count}


def uses_on(uow: UnitOfWork, instance_id: int) -> list[dict[str, Any]]:
    """What was used on a record, for its page."""
    stmt = select(KnowledgeUse).where(KnowledgeUse.instance_id == instance_id).order_by(KnowledgeUse.id)
    return [{"item": u.item_key, "element_id": u.element_id, "by": u.username, "helped": u.helped,
             "at": u.at.isoformat()} for u in uow.session.execute(stmt).scalars()]

