"""The catalogue's pages: services, configuration items (with CSV import and export) and blackout periods.
Everyone signed in reads them; the forms show what the service layer will let the person change, and the
service layer checks it again (engine/services/catalogue_access.py)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from engine.db.database import unit_of_work
from engine.errors import DomainError
from engine.services import blackouts, calendars, catalogue, cmdb, cmdb_csv
from engine.services.catalogue_access import is_catalogue_admin, may_edit_service, owns
from web.auth import db
from web.ui.common import page, signed_in, ui

CI_LISTS = ("services", "depends_on", "runs_on")


def _refused(exc: DomainError) -> None:
    fields = exc.details.get("fields") or {}
    flash(exc.message + ("" if not fields else ": " + "; ".join(f"{k} {v}" for k, v in fields.items())), "error")


@ui.get("/catalogue")
@page()
def catalogue_home():  # type: ignore[no-untyped-def]
    actor = signed_in()
    with unit_of_work(db(), readonly=True) as uow:
        services = catalogue.list_services(uow, include_retired=True)
        items = cmdb.list_items(uow, include_retired=True)
        options = cmdb.choices(uow)
        owners = cmdb.owner_choices(uow)
    return render_template("catalogue.html", services=services, cis=items, admin=is_catalogue_admin(actor),
                           types=cmdb.TYPES, service_options=[s for s in services if s["active"]],
                           ci_options=options, owners=owners)


@ui.get("/catalogue/services/<ref>")
@page()
def service_page(ref: str):  # type: ignore[no-untyped-def]
    actor = signed_in()
    with unit_of_work(db(), readonly=True) as uow:
        service = catalogue.get(uow, ref)
        row = catalogue.row(uow, ref)
        items = cmdb.list_items(uow, service=ref, include_retired=True)
        cals = calendars.list_calendars(uow)
        may_edit = may_edit_service(actor, row)
    return render_template("service.html", service=service, cis=items, calendars=cals, may_edit=may_edit,
                           admin=is_catalogue_admin(actor), tiers=catalogue.TIERS)


@ui.post("/catalogue/services/<ref>")
@page()
def edit_service(ref: str):  # type: ignore[no-untyped-def]
    form = request.form
    body: dict[str, Any] = {k: form[k] for k in ("name", "description", "support_calendar", "maintenance_calendar")
                            if k in form}
    if "tier" in form:
        body["tier"] = form["tier"]
        body["donor_facing"] = form.get("donor_facing") == "on"
    try:
        catalogue.update(db(), signed_in(), ref, body)
    except DomainError as exc:
        _refused(exc)
    else:
        flash(f"Service {ref} saved.", "ok")
    return redirect(url_for("ui.service_page", ref=ref))


def _ci_body(creating: bool) -> dict[str, Any]:
    form = request.form
    body: dict[str, Any] = {k: form[k] for k in ("id", "name", "type", "description") if form.get(k) or
                            (k == "description" and k in form)}
    for key in CI_LISTS:
        if f"{key}_sent" in form:  # a hidden marker: an emptied list is sent as none chosen
            body[key] = [v for v in form.getlist(key) if v]
    owner = form.get("owner", "").strip()
    if owner:
        kind, _, value = owner.partition(":")
        body["owner_user" if kind == "user" else "owner_role"] = value
        body["owner_role" if kind == "user" else "owner_user"] = None
    if not creating:
        body.pop("id", None)
    return body


@ui.post("/catalogue/cis")
@page()
def create_ci():  # type: ignore[no-untyped-def]
    try:
        made = cmdb.create(db(), signed_in(), _ci_body(creating=True))
    except DomainError as exc:
        _refused(exc)
        return redirect(url_for("ui.catalogue_home") + "#add-ci")
    flash(f"Configuration item {made['id']} added.", "ok")
    return redirect(url_for("ui.ci_page", ref=made["id"]))


@ui.get("/catalogue/cis/<ref>")
@page()
def ci_page(ref: str):  # type: ignore[no-untyped-def]
    actor = signed_in()
    with unit_of_work(db(), readonly=True) as uow:
        item = cmdb.get(uow, ref)
        events = cmdb.history(uow, ref)
        services = catalogue.list_services(uow)
        options = [o for o in cmdb.choices(uow) if o["id"] != ref]
        served = [catalogue.row(uow, s) for s in item["services"]]
    may_edit = is_catalogue_admin(actor) or owns(actor, item["owner_user"], item["owner_role"]) or any(
        owns(actor, s.owner_user, s.owner_role) for s in served)
    return render_template("ci.html", ci=item, events=events, services=services, ci_options=options,
                           may_edit=may_edit, admin=is_catalogue_admin(actor), types=cmdb.TYPES)


@ui.post("/catalogue/cis/<ref>")
@page()
def edit_ci(ref: str):  # type: ignore[no-untyped-def]
    try:
        cmdb.update(db(), signed_in(), ref, _ci_body(creating=False))
    except DomainError as exc:
        _refused(exc)
    else:
        flash(f"Configuration item {ref} saved.", "ok")
    return redirect(url_for("ui.ci_page", ref=ref))


@ui.post("/catalogue/cis.csv")
@page()
def import_cis():  # type: ignore[no-untyped-def]
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a CSV file to import.", "error")
        return redirect(url_for("ui.catalogue_home") + "#import")
    try:
        done = cmdb_csv.import_csv(db(), signed_in(), upload.read(cmdb_csv.MAX_BYTES + 1))
    except DomainError as exc:
        _refused(exc)
    else:
        flash(f"Imported: {len(done['created'])} added, {len(done['updated'])} updated, "
              f"{len(done['unchanged'])} unchanged.", "ok")
    return redirect(url_for("ui.catalogue_home"))


@ui.route("/catalogue/blackouts", methods=["GET", "POST"])
@page()
def blackout_page():  # type: ignore[no-untyped-def]
    actor = signed_in()
    if request.method == "POST":
        body = {k: request.form.get(k, "") for k in ("name", "reason", "starts_at", "ends_at")}
        body["service"] = request.form.get("service") or None  # type: ignore[assignment]
        try:
            blackouts.create(db(), actor, body)
        except DomainError as exc:
            _refused(exc)
        else:
            flash(f"Blackout {body['name']!r} declared.", "ok")
        return redirect(url_for("ui.blackout_page"))
    with unit_of_work(db(), readonly=True) as uow:
        rows = blackouts.list_blackouts(uow)
        services = catalogue.list_services(uow)
    return render_template("blackouts.html", rows=rows, services=services, admin=is_catalogue_admin(actor))


@ui.post("/catalogue/blackouts/<int:blackout_id>/delete")
@page()
def delete_blackout(blackout_id: int):  # type: ignore[no-untyped-def]
    try:
        blackouts.delete(db(), signed_in(), blackout_id)
    except DomainError as exc:
        _refused(exc)
    else:
        flash("Blackout removed.", "ok")
    return redirect(url_for("ui.blackout_page"))
