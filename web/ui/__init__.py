"""Server-rendered pages for staff, process owners and auditors: one module per kind of screen, all on the
`ui` blueprint (web/ui/common.py)."""

from __future__ import annotations

from flask import Flask


def register_ui(app: Flask) -> None:
    from web.ui import (  # noqa: F401 - they add the routes
        accounts_page,
        auditors,
        calendar_page,
        catalogue_pages,
        dashboard,
        dead_letters_page,
        desk,
        governance_pages,
        inbox_page,
        knowledge,
        lifecycle,
        mail,
        migrations,
        owners,
        pages,
        proposals,
        records,
        requester,
        sla_pages,
        staff,
        tables,
    )

    app.register_blueprint(pages.ui)
