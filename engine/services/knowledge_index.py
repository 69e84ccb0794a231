"""The full-text index over known errors and articles, one service for both databases: SQLite FTS5 (bm25
ranking, porter stemming) or PostgreSQL full text (a generated tsvector column with a GIN index, ts_rank).
The index holds what may be found: every known error and every published article, by its key (KE-/KB-).
Text is reduced to plain words before it reaches either query language, so no input can break a query."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text

from engine.db.database import UnitOfWork

MAX_WORDS = 32
# Words too common to tell one entry from another (PostgreSQL's english configuration drops these itself;
# FTS5 has no stop list, and an OR of "the" would match everything).
STOP = frozenset("a an and are as at be but by can for from has have i in is it its my no not of on or our so "
                 "that the their there this to was we were what when where which who will with you your".split())


@dataclass(frozen=True)
class Hit:
    item_key: str
    rank: float  # higher is better, on the database's own scale


def words(query: str) -> list[str]:
    """The searchable words of a text: letters and digits only, lower case, no stop words, no repeats."""
    found = [w for w in re.findall(r"[^\W_]+", query.lower()) if len(w) > 1 and w not in STOP]
    return list(dict.fromkeys(found))[:MAX_WORDS]


def put(uow: UnitOfWork, item_key: str, title: str, body: str) -> None:
    """Adds or replaces an entry (call in the transaction that changes the item)."""
    drop(uow, item_key)
    uow.session.execute(text("INSERT INTO knowledge_text (item_key, title, body) VALUES (:k, :t, :b)"),
                        {"k": item_key, "t": title, "b": body})


def drop(uow: UnitOfWork, item_key: str) -> None:
    uow.session.execute(text("DELETE FROM knowledge_text WHERE item_key = :k"), {"k": item_key})


def search(uow: UnitOfWork, query: str, prefixes: tuple[str, ...], match_all: bool, limit: int) -> list[Hit]:
    """Entries whose key starts with one of `prefixes` (e.g. "KE-"), best first. `match_all`: every word
    must occur (a search box); otherwise any word may (suggestions from a record's own words)."""
    terms = words(query)
    if not terms or not prefixes:
        return []
    params: dict[str, object] = {"limit": limit}
    kinds = []
    for n, prefix in enumerate(prefixes):
        params[f"p{n}"] = f"{prefix}%"
        kinds.append(f"item_key LIKE :p{n}")
    where_kind = "(" + " OR ".join(kinds) + ")"
    if uow.is_postgres:
        params["q"] = (" & " if match_all else " | ").join(f"{w}:*" if match_all else w for w in terms)
        sql = ("SELECT item_key, ts_rank(doc, q) AS rank FROM knowledge_text, to_tsquery('english', :q) AS q "
               f"WHERE doc @@ q AND {where_kind} ORDER BY rank DESC, item_key LIMIT :limit")
    else:
        params["q"] = (" AND " if match_all else " OR ").join(f'"{w}"*' if match_all else f'"{w}"' for w in terms)
        sql = ("SELECT item_key, -bm25(knowledge_text, 0.0, 2.0, 1.0) AS rank FROM knowledge_text "
               f"WHERE knowledge_text MATCH :q AND {where_kind} ORDER BY rank DESC, item_key LIMIT :limit")
    rows = uow.session.execute(text(sql), params).all()
    return [Hit(r[0], float(r[1])) for r in rows]
