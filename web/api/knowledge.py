"""Knowledge over the API: full-text search, problems and known errors, articles, and using one on a task."""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from engine.services import articles, knowledge, knowledge_views, problems
from web.api import api
from web.api.helpers import int_arg, json_body
from web.api.openapi import PATHS, STR, _json, _op
from web.api.owner_helpers import actor
from web.auth import db, login_required

KEYS = {"type": "array", "items": STR}
PROBLEM_BODY = _json({"title": STR, "description": STR, "service": STR, "incidents": KEYS}, ["title"])
KNOWN_ERROR_BODY = _json({"symptom": STR, "workaround": STR, "root_cause": STR, "fix_rfc": STR})
ARTICLE_BODY = _json({"title": STR, "body": STR, "service": STR}, ["title", "body"])
PATHS.update({
    "/knowledge/search": {"get": _op("Full-text search: q, kind=known_errors|articles (repeatable), any=1 for any "
                                     "word instead of all, limit", "knowledge", 200, None, (401, 422))},
    "/problems": {"get": _op("Problems (status=open|known_error|closed; staff)", "knowledge", 200, None,
                             (401, 403, 422)),
                  "post": _op("Open a problem, linking the incidents it explains", "knowledge", 201, PROBLEM_BODY,
                              (400, 401, 403, 422))},
    "/problems/{key}": {"get": _op("One problem with its incidents and known error", "knowledge")},
    "/problems/{key}/incidents": {"post": _op("Link more incidents", "knowledge", 200, _json({"incidents": KEYS}),
                                              (400, 401, 403, 404, 409, 422))},
    "/problems/{key}/known-error": {"put": _op("Record or update the known error", "knowledge", 200,
                                               KNOWN_ERROR_BODY, (400, 401, 403, 404, 409, 422))},
    "/problems/{key}/close": {"post": _op("Close once the fix RFC is implemented: the known error becomes fixed",
                                          "knowledge", 200, _json({"note": STR}), (400, 401, 403, 404, 409, 422))},
    "/articles": {"get": _op("Knowledge articles (status=...; requesters: published only)", "knowledge", 200, None,
                             (401, 422)),
                  "post": _op("Write an article (a draft)", "knowledge", 201, ARTICLE_BODY, (400, 401, 403, 422))},
    "/articles/{key}": {"get": _op("One article", "knowledge"),
                        "patch": _op("Edit an article (back to draft)", "knowledge", 200, ARTICLE_BODY,
                                     (400, 401, 403, 404, 409, 422))},
    "/articles/{key}/review": {"post": _op("Review a draft (service desk, not its author)", "knowledge", 200, None,
                                           (401, 403, 404, 409))},
    "/articles/{key}/publish": {"post": _op("Publish a reviewed article", "knowledge", 200, None,
                                            (401, 403, 404, 409))},
    "/articles/{key}/retire": {"post": _op("Retire an article", "knowledge", 200, None, (401, 403, 404, 409))},
    "/tasks/{id}/knowledge": {"post": _op("Record that a known error or article was used on this task's record",
                                          "knowledge", 201, _json({"key": STR, "helped": {"type": "boolean"}},
                                                                  ["key"]), (400, 401, 403, 404, 409, 422))},
})


@api.get("/knowledge/search")
@login_required
def search_knowledge() -> ResponseReturnValue:
    found = knowledge_views.search(db(), actor(), request.args.get("q", ""), request.args.getlist("kind") or None,
                                   request.args.get("any") != "1", int_arg("limit", 20, high=100))
    return jsonify({"query": request.args.get("q", ""), "results": found})


@api.get("/problems")
@login_required
def list_problems() -> ResponseReturnValue:
    return jsonify({"problems": knowledge_views.problem_list(db(), actor(), request.args.get("status") or None)})


@api.post("/problems")
@login_required
def open_problem() -> ResponseReturnValue:
    return jsonify(problems.create(db(), actor(), json_body())), 201


@api.get("/problems/<key>")
@login_required
def get_problem(key: str) -> ResponseReturnValue:
    return jsonify(knowledge_views.problem(db(), actor(), key))


@api.post("/problems/<key>/incidents")
@login_required
def link_incidents(key: str) -> ResponseReturnValue:
    return jsonify(problems.link(db(), actor(), key, json_body()))


@api.put("/problems/<key>/known-error")
@login_required
def record_known_error(key: str) -> ResponseReturnValue:
    return jsonify(problems.record_known_error(db(), actor(), key, json_body()))


@api.post("/problems/<key>/close")
@login_required
def close_problem(key: str) -> ResponseReturnValue:
    body = request.get_json(silent=True)
    return jsonify(problems.close(db(), actor(), key, {} if body is None else body))


@api.get("/articles")
@login_required
def list_articles() -> ResponseReturnValue:
    return jsonify({"articles": knowledge_views.article_list(db(), actor(), request.args.get("status") or None)})


@api.post("/articles")
@login_required
def write_article() -> ResponseReturnValue:
    return jsonify(articles.create(db(), actor(), json_body())), 201


@api.get("/articles/<key>")
@login_required
def get_article(key: str) -> ResponseReturnValue:
    return jsonify(knowledge_views.article(db(), actor(), key))


@api.patch("/articles/<key>")
@login_required
def edit_article(key: str) -> ResponseReturnValue:
    return jsonify(articles.edit(db(), actor(), key, json_body()))


@api.post("/articles/<key>/review")
@login_required
def review_article(key: str) -> ResponseReturnValue:
    return jsonify(articles.review(db(), actor(), key))


@api.post("/articles/<key>/publish")
@login_required
def publish_article(key: str) -> ResponseReturnValue:
    return jsonify(articles.publish(db(), actor(), key))


@api.post("/articles/<key>/retire")
@login_required
def retire_article(key: str) -> ResponseReturnValue:
    return jsonify(articles.retire(db(), actor(), key))


@api.post("/tasks/<task_id>/knowledge")
@login_required
def use_knowledge(task_id: str) -> ResponseReturnValue:
    return jsonify(knowledge.use(db(), actor(), task_id, json_body())), 201
