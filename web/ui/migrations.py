"""The migration page: choose a source and a target version (and an element map), see the dry run per running
record, then move the movable ones with a reason."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from engine.errors import BadRequest
from engine.services import migration
from web.auth import db
from web.ui.common import page, signed_in, ui


def _mapping(text: str) -> dict[str, str]:
    """One `old = new` (or `old -> new`) per line."""
    mapping = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        old, sep, new = line.replace("->", "=").partition("=")
        if not sep or not old.strip() or not new.strip():
            raise BadRequest(f"line {number} of the element map is not `old = new`", fields={"map": line})
        mapping[old.strip()] = new.strip()
    return mapping


def _version(name: str, form: Any) -> int | None:
    raw = (form.get(name) or "").strip()
    return int(raw) if raw.isdigit() else None


def _body(form: Any, chosen: list[str] | None) -> dict[str, Any]:
    return {"from_version": _version("from", form), "to_version": _version("to", form),
            "mapping": _mapping(form.get("map", "")),
            "instances": [int(i) for i in chosen if i.isdigit()] if chosen is not None else None}


@ui.route("/processes/<key>/migrate", methods=["GET", "POST"])
@page("migrate")
def migrate(key: str) -> tuple[str, int]:
    form = request.form if request.method == "POST" else request.args
    choices = migration.versions_with_open_instances(db(), signed_in(), key)
    versions = choices["versions"]
    context: dict[str, Any] = {"key": key, "versions": versions, "form": form, "plan": None, "result": None,
                               "error": None, "fields": {}}
    if request.method == "GET" and not form.get("from"):
        busiest = max(versions[:-1], key=lambda v: v["open"], default=None)
        context["defaults"] = {"from": busiest["version"] if busiest else "", "to": versions[-1]["version"]}
        return render_template("migrate.html", **context), 200
    try:
        if request.method == "POST":
            req = migration.parse_request(key, _body(form, form.getlist("instance")))
            context["result"] = migration.apply(db(), signed_in(), req, form.get("reason", ""))
        else:
            req = migration.parse_request(key, _body(form, None))
            context["plan"] = migration.dry_run(db(), signed_in(), req)
    except BadRequest as exc:
        context["error"], context["fields"] = exc.message, exc.details.get("fields", {})
        return render_template("migrate.html", **context), 400
    return render_template("migrate.html", **context), 200
