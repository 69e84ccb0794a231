"""Staff pages: the inbox, claiming, the task form, and raising new records."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import BadRequest, Conflict, NotFound, ValidationFailed
from engine.services import page_views, people, staff_views, starting, tasks
from web.auth import db
from web.ui import forms, pickers
from web.ui.common import page, safe_next, signed_in, ui


def _back(task_id: str) -> str:
    # A row button of the inbox's bulk form names its own target in the query string.
    return safe_next(request.args.get("next") or request.form.get("next"), url_for("ui.task", task_id=task_id))


@ui.post("/tasks/<task_id>/claim")
@page()
def claim(task_id: str) -> ResponseReturnValue:
    try:
        task = tasks.claim(db(), signed_in(), task_id, request.form.get("reason"))
    except BadRequest as exc:  # an administrator's claim of an approval not offered to them, without a reason
        flash(exc.message, "error")
        return redirect(url_for("ui.task", task_id=task_id))
    except (Conflict, NotFound) as exc:
        flash(exc.message, "error")
        return redirect(url_for("ui.inbox"))
    flash(f"You hold “{task['name']}” on {task['business_key']}.", "ok")
    return redirect(_back(task_id))


@ui.post("/tasks/<task_id>/unclaim")
@page()
def unclaim(task_id: str) -> ResponseReturnValue:
    try:
        task = tasks.unclaim(db(), signed_in(), task_id)
    except (Conflict, NotFound) as exc:
        flash(exc.message, "error")
        return redirect(url_for("ui.inbox"))
    flash(f"“{task['name']}” on {task['business_key']} is back in the queue.", "ok")
    target = request.args.get("next") or request.form.get("next")
    return redirect(safe_next(target, url_for("ui.inbox", tab="available")))


def _task_page(task_id: str, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
               status: int = 200) -> ResponseReturnValue:
    ctx, (choices, several) = staff_views.task_form(db(), signed_in(), task_id)
    choices = {**people.pickers_for_instance(db(), signed_in(), ctx["task"]["instance_id"]), **choices}
    fields = ctx["task"]["form"]
    shown = forms.initial_values(fields, ctx["task"]["data"],
                                 forms.written_elsewhere(ctx["events"], ctx["task"]["element_id"]))
    if values is not None:  # after a refused post: exactly what was sent (read-only fields are never sent)
        shown.update(values)
    prepared = pickers.apply(forms.prepare(fields, shown, errors or {}), choices, several)
    return render_template("task.html", **ctx, fields=prepared, errors=errors or {}), status


@ui.get("/tasks/<task_id>")
@page()
def task(task_id: str) -> ResponseReturnValue:
    return _task_page(task_id)


@ui.post("/tasks/<task_id>")
@page()
def complete_task(task_id: str) -> ResponseReturnValue:
    values = forms.posted(request.form)
    try:
        result = tasks.complete(db(), signed_in(), task_id, values)
    except ValidationFailed as exc:
        return _task_page(task_id, values, exc.details.get("fields", {}), 422)
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("ui.inbox"))
    inst = result["instance"]
    flash(f"Done: {inst['business_key']} is {inst['status']}.", "ok")
    follow = tasks.first_workable(db(), signed_in(), [t["id"] for t in result["next_tasks"]])
    return redirect(url_for("ui.task", task_id=follow) if follow else url_for("ui.inbox"))


@ui.get("/new")
@page()
def new() -> ResponseReturnValue:
    options = page_views.start_options(db(), signed_in())
    return render_template("new.html", options=options)


@ui.route("/new/<ref>", methods=["GET", "POST"])
@page()
def raise_record(ref: str) -> ResponseReturnValue:
    actor = signed_in()
    try:
        option, (choices, several) = staff_views.start_form(db(), actor, ref)
    except NotFound:
        return render_template("raise.html", ref=ref, option=None, fields=[], errors={}), 404
    choices = {**people.pickers_for_process(db(), actor, option.option.process), **choices}
    fields = [f.to_dict() for f in option.fields]
    # A link may pre-fill shown fields (the catalogue's "raise a standard change"): the start checks them all again.
    values = forms.initial_values(fields, {k: v for k, v in request.args.items() if k in {f["id"] for f in fields}})
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = forms.posted(request.form)
        try:
            started = starting.start(db(), actor, ref, values)
        except ValidationFailed as exc:  # the form's checks and the server's own (the catalogue's facts)
            errors, status = exc.details.get("fields", {}), 422
        else:
            flash(f"{started.business_key} raised ({started.process} v{started.version}).", "ok")
            if started.next_task:
                return redirect(url_for("ui.task", task_id=started.next_task))
            return redirect(url_for("ui.record", ref=started.business_key))
    return render_template("raise.html", ref=ref, option=option,
                           fields=pickers.apply(forms.prepare(fields, values, errors), choices, several),
                           errors=errors), status
