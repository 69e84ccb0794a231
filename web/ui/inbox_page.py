"""The inbox page: tabs with counts, filters, sortable columns, pages by cursor, bulk claim and assign, and
assigning one task to a named person (from its page)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest, DomainError
from engine.services import assign, inbox_view, page_views, policy
from web.api.inbox_args import filters_from
from web.auth import db
from web.ui.common import page, safe_next, signed_in, ui


@ui.get("/inbox")
@page()
def inbox() -> ResponseReturnValue:
    actor = signed_in()
    tab = request.args.get("tab", policy.DEFAULT_TAB)
    page_no = request.args.get("page", "1")
    # Bad filters are said beside the filters; the tab is still shown, unfiltered.
    try:
        filters, problem = filters_from(request.args), None
    except BadRequest as exc:
        filters, problem = None, exc.message
    box, options, refused = page_views.inbox_page(db(), actor, tab, filters, request.args.get("sort"),
                                                  request.args.get("cursor") or None)
    problem = problem or refused
    args = box.filters.as_args()
    return render_template("inbox.html", box=box, options=options, args=args, problem=problem,
                           page_no=int(page_no) if page_no.isdigit() and not problem else 1,
                           sort_link=_sort_link(box, args)), (400 if problem else 200)


def _sort_link(box: inbox_view.InboxView, args: dict[str, Any]) -> Any:
    def link(column: str) -> str:
        current = box.sort.lstrip("-")
        reverse = box.sort.startswith("-")
        target = f"-{column}" if current == column and not reverse else column
        return url_for("ui.inbox", tab=box.tab, sort=target, **args)
    return link


@ui.post("/inbox/bulk")
@page()
def inbox_bulk() -> ResponseReturnValue:
    actor = signed_in()
    ids = request.form.getlist("ids")
    back = safe_next(request.form.get("next"), url_for("ui.inbox"))
    if not ids:
        flash("Select the tasks first.", "error")
        return redirect(back)
    try:
        if request.form.get("action") == "assign":
            results = assign.assign_many(db(), actor, ids, request.form.get("assignee", ""))
            verb = f"assigned to {request.form.get('assignee')}"
        else:
            results = assign.claim_many(db(), actor, ids)
            verb = "claimed"
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(back)
    done = sum(1 for r in results if r["ok"])
    flash(f"{done} of {len(results)} task{'s' if len(results) > 1 else ''} {verb}.", "ok" if done else "error")
    for r in results:
        if not r["ok"]:
            flash(f"Not {verb.split()[0]}: {r['error']['message']}", "error")
    return redirect(back)


@ui.post("/tasks/<task_id>/assign")
@page("assign")
def assign_task(task_id: str) -> ResponseReturnValue:
    try:
        task = assign.assign(db(), signed_in(), task_id, request.form.get("assignee", ""))
    except (BadRequest, DomainError) as exc:
        flash(f"Not assigned: {exc.message}", "error")
        return redirect(url_for("ui.task", task_id=task_id))
    flash(f"“{task['name']}” on {task['business_key']} is now with {task['assignee']}.", "ok")
    return redirect(safe_next(request.form.get("next"), url_for("ui.task", task_id=task_id)))



