"""Security headers on every response (pages, API, static files), and raw documents served as inert downloads."""

from __future__ import annotations

from flask import Flask, Response

# Responses that are not our pages (JSON, static files, downloads) need no script, style or frame at all.
NOTHING_ACTIVE = "default-src 'none'; frame-ancestors 'none'; sandbox"


# Set where the response has none of its own. Each Headers.setdefault scans the header list with str.lower(); six
# of them were a fifth of the CPU Flask spends around an API call, so the present names are read once instead.
DEFAULTS = (
    ("Content-Security-Policy", NOTHING_ACTIVE),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
_LOWER = tuple((name.lower(), name, value) for name, value in DEFAULTS)


def _headers(response: Response) -> Response:
    # The pages set their own policy (web/ui/common.py); a header already there is kept.
    present = {name.lower() for name, _ in response.headers}
    for lower, name, value in _LOWER:
        if lower not in present:
            response.headers.add(name, value)
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
