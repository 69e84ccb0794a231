"""Server-rendered pages for staff, process owners and auditors."""

from __future__ import annotations

from flask import Flask


def register_ui(app: Flask) -> None:
    from web.ui.pages import ui

    app.register_blueprint(ui)
