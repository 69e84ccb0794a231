"""Security headers on every response (pages, API, static files), and raw documents served as inert downloads."""

from __future__ import annotations

from flask import Flask, Response

# Responses that are not our pages (JSON, static files, downloads) need no script, style or frame at all.
NOTHING_ACTIVE = "default-src 'none'; frame-ancestors 'none'; sandbox"


def _headers(response: Response) -> Response:
    # The pages set their own policy (web/ui/common.py); setdefault keeps it.
    response.headers.setdefault("Content-Security-Policy", NOTHING_ACTIVE)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    return response


def register(app: Flask) -> None:
    app.after_request(_headers)


def raw_document(text: str, filename: str) -> Response:
    """An uploaded diagram or table as a download: never rendered inline, never sniffed, never scripted."""
    safe_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)[:100] or "document.xml"
    response = Response(text, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response.headers["Content-Security-Policy"] = NOTHING_ACTIVE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
