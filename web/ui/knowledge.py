"""Knowledge pages: the search, articles (write, review, publish), problems and known errors, and recording
on a task that a suggestion was used. Every act goes through the same services as the API."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from engine.services import articles, knowledge, knowledge_views, policy, problems
from web.auth import db
from web.ui.common import page, signed_in, ui


def _fields(names: tuple[str, ...]) -> dict[str, str]:
    return {n: request.form.get(n, "") for n in names if n in request.form}


def _refused(exc: Conflict | NotAllowed | ValidationFailed | NotFound) -> None:
    fields = exc.details.get("fields") if isinstance(exc, ValidationFailed) else None
    detail = "; ".join(f"{k} {v}" for k, v in fields.items()) if fields else ""
    flash(f"{exc.message}{': ' + detail if detail else ''}", "error")


@ui.get("/knowledge")
@page()
def knowledge_page() -> ResponseReturnValue:
    actor = signed_in()
    q = request.args.get("q", "").strip()
    results: list[dict[str, Any]] = []
    error = None
    staff = policy.may_read_known_errors(actor)
    if q:
        try:
            results = knowledge_views.search(db(), actor, q)
        except ValidationFailed as exc:
            error = "; ".join(f"{v}" for v in exc.details.get("fields", {}).values()) or exc.message
    pending, open_problems = knowledge_views.work_in_hand(db(), actor)
    return render_template("knowledge.html", q=q, results=results, error=error, pending=pending,
                           problems=open_problems, staff=staff, may_write=policy.may(actor, "write_knowledge"),
                           may_problems=policy.may(actor, "problems"))


@ui.post("/knowledge/articles")
@page("write_knowledge")
def write_article() -> ResponseReturnValue:
    try:
        made = articles.create(db(), signed_in(), _fields(("title", "body", "service")))
    except ValidationFailed as exc:
        _refused(exc)
        return redirect(url_for("ui.knowledge_page"))
    flash(f"{made['key']} is a draft: someone else of the service desk reviews it.", "ok")
    return redirect(url_for("ui.article_page", key=made["key"]))


@ui.get("/knowledge/articles/<key>")
@page()
def article_page(key: str) -> ResponseReturnValue:
    actor = signed_in()
    try:
        article = knowledge_views.article(db(), actor, key)
    except NotFound:
        return render_template("error.html", status=404, message=f"No article {key}."), 404
    return render_template("article.html", a=article, may_write=policy.may(actor, "write_knowledge"),
                           may_review=policy.may(actor, "review_knowledge") and article["author"] != actor.username,
                           may_publish=policy.may(actor, "review_knowledge"))


@ui.post("/knowledge/articles/<key>/<act>")
@page()
def article_act(key: str, act: str) -> ResponseReturnValue:
    actor = signed_in()
    acts = {"review": lambda: articles.review(db(), actor, key), "publish": lambda: articles.publish(db(), actor, key),
            "retire": lambda: articles.retire(db(), actor, key),
            "edit": lambda: articles.edit(db(), actor, key, _fields(("title", "body", "service")))}
    if act not in acts:
        return render_template("error.html", status=404, message=f"No act {act}."), 404
    try:
        done = acts[act]()
        flash(f"{key} is {done['status']}.", "ok")
    except (Conflict, NotAllowed, ValidationFailed, NotFound) as exc:
        _refused(exc)
    return redirect(url_for("ui.article_page", key=key))


@ui.post("/knowledge/problems")
@page("problems")
def open_problem() -> ResponseReturnValue:
    data: dict[str, Any] = _fields(("title", "description", "service"))
    data["incidents"] = [k for k in request.form.get("incidents", "").replace(",", " ").split() if k]
    try:
        made = problems.create(db(), signed_in(), data)
    except ValidationFailed as exc:
        _refused(exc)
        return redirect(url_for("ui.knowledge_page"))
    flash(f"{made['key']} opened.", "ok")
    return redirect(url_for("ui.problem_page", key=made["key"]))


@ui.get("/knowledge/problems/<key>")
@page("problems")
def problem_page(key: str) -> ResponseReturnValue:
    try:
        problem = knowledge_views.problem(db(), signed_in(), key)
    except NotFound:
        return render_template("error.html", status=404, message=f"No problem {key}."), 404
    return render_template("problem.html", p=problem)


@ui.post("/knowledge/problems/<key>/<act>")
@page("problems")
def problem_act(key: str, act: str) -> ResponseReturnValue:
    actor = signed_in()
    incidents = [k for k in request.form.get("incidents", "").replace(",", " ").split() if k]
    acts = {"link": lambda: problems.link(db(), actor, key, {"incidents": incidents}),
            "known-error": lambda: problems.record_known_error(
                db(), actor, key, _fields(("symptom", "workaround", "root_cause", "fix_rfc"))),
            "close": lambda: problems.close(db(), actor, key, _fields(("note",)))}
    if act not in acts:
        return render_template("error.html", status=404, message=f"No act {act}."), 404
    try:
        done = acts[act]()
        flash(f"{key}: {done['status'].replace('_', ' ')}.", "ok")
    except (Conflict, NotAllowed, ValidationFailed, NotFound) as exc:
        _refused(exc)
    return redirect(url_for("ui.problem_page", key=key))


@ui.post("/tasks/<task_id>/knowledge")
@page()
def use_knowledge(task_id: str) -> ResponseReturnValue:
    item = request.form.get("key", "")
    try:
        knowledge.use(db(), signed_in(), task_id, {"key": item, "helped": request.form.get("helped") == "yes"})
        flash(f"{item} is recorded on this record.", "ok")
    except (Conflict, NotAllowed, ValidationFailed, NotFound) as exc:
        _refused(exc)
    return redirect(url_for("ui.task", task_id=task_id))
