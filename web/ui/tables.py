"""Decision tables for their owners: the rule-by-rule diff between two versions."""

from __future__ import annotations

from flask import render_template

from engine.services import table_diff
from web.auth import db
from web.ui.common import arg_int, page, signed_in, ui


@ui.get("/decisions/<key>/diff")
@page("compare_versions")
def decision_diff(key: str) -> str:
    versions = table_diff.history(db(), signed_in(), key)
    target = arg_int("target") or versions[-1]["version"]
    base = arg_int("base")
    base = target - 1 if base is None else base
    td = table_diff.versions(db(), signed_in(), key, base, target)
    return render_template("decision_diff.html", td=td, key=key, versions=versions, base=base, target=target)
