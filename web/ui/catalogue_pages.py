"""The catalogue's pages: services, configuration items (with CSV import and export) and blackout periods.
Everyone signed in reads them; the forms show what the service layer will let the person change, and the
service layer checks it again (engine/services/catalogue_access.py)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import DomainError
from engine.services import blackouts, catalogue, catalogue_views, cmdb, cmdb_csv
from web.auth import db
from web.ui.common import page, signed_in, ui

CI_LISTS = ("services", "depends_on", "runs_on")


def _refused(exc: DomainError) -> None:
    fields = exc.details.get("fields") or {}
    flash(exc.message + ("" if not fields else ": " + "; ".join(f"{k} {v}" for k, v in fields.items())), "error")


@ui.get("/catalogue")
@page()
def catalogue_home() -> ResponseReturnValue:
    return render_template("catalogue.html", **catalogue_views.home_page(db(), signed_in()))


@ui.get("/catalogue/services/<ref>")
@page()
def service_page(ref: str) -> ResponseReturnValue:
    return render_template("service.html", **catalogue_views.service_page(db(), signed_in(), ref))


@ui.post("/catalogue/services/<ref>")
@page()
def edit_service(ref: str) -> ResponseReturnValue:
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
def create_ci() -> ResponseReturnValue:
    try:
        made = cmdb.create(db(), signed_in(), _ci_body(creating=True))
    except DomainError as exc:
        _refused(exc)
        return redirect(url_for("ui.catalogue_home") + "#add-ci")
    flash(f"Configuration item {made['id']} added.", "ok")
    return redirect(url_for("ui.ci_page", ref=made["id"]))


@ui.get("/catalogue/cis/<ref>")
@page()
def ci_page(ref: str) -> ResponseReturnValue:
    return render_template("ci.html", **catalogue_views.ci_page(db(), signed_in(), ref))


@ui.post("/catalogue/cis/<ref>")
@page()
def edit_ci(ref: str) -> ResponseReturnValue:
    try:
        cmdb.update(db(), signed_in(), ref, _ci_body(creating=False))
    except DomainError as exc:
        _refused(exc)
    else:
        flash(f"Configuration item {ref} saved.", "ok")
    return redirect(url_for("ui.ci_page", ref=ref))


@ui.post("/catalogue/cis.csv")
@page()
def import_cis() -> ResponseReturnValue:
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
def blackout_page() -> ResponseReturnValue:
    actor = signed_in()
    if request.method == "POST":
        body: dict[str, str | None] = {k: request.form.get(k, "") for k in ("name", "reason", "starts_at", "ends_at")}
        body["service"] = request.form.get("service") or None
        try:
            blackouts.create(db(), actor, body)
        except DomainError as exc:
            _refused(exc)
        else:
            flash(f"Blackout {body['name']!r} declared.", "ok")
        return redirect(url_for("ui.blackout_page"))
    return render_template("blackouts.html", **catalogue_views.blackout_page(db(), actor))


@ui.post("/catalogue/blackouts/<int:blackout_id>/delete")
@page()
def delete_blackout(blackout_id: int) -> ResponseReturnValue:
    try:
        blackouts.delete(db(), signed_in(), blackout_id)
    except DomainError as exc:
        _refused(exc)
    else:
        flash("Blackout removed.", "ok")
    return redirect(url_for("ui.blackout_page"))
