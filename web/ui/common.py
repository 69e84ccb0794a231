"""What every page shares: the signed-in check (a redirect to sign-in, not a 401), role checks, navigation,
request parsing helpers, template filters and the response headers of the UI."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, request, url_for
from markupsafe import Markup

from engine import clock
from engine.errors import DomainError
from engine.services import policy
from engine.services.actors import Actor
from web.api.helpers import arg_date as arg_date  # shared with the API's date arguments
from web.auth import current_actor

F = TypeVar("F", bound=Callable[..., Any])
STATIC = Path(__file__).resolve().parent.parent / "static"

ui = Blueprint("ui", __name__, template_folder="../templates")

# (endpoint, label, the policy act it needs (None: everyone signed in), the other pages it is "current" for)
NAV: tuple[tuple[str, str, str | None, tuple[str, ...]], ...] = (
    ("ui.inbox", "Inbox", None, ("ui.task",)),
    ("ui.my_records", "My requests", None, ("ui.my_record",)),
    ("ui.new", "New record", None, ("ui.raise_record",)),
    ("ui.records", "Records", None, ("ui.record",)),
    ("ui.knowledge_page", "Knowledge", None, ("ui.article_page", "ui.problem_page")),
    ("ui.dashboard", "Dashboard", "dashboard", ("ui.sla_report",)),
    ("ui.processes", "Processes", "catalogue", ("ui.process_diff", "ui.modeller", "ui.upload", "ui.dmn_editor",
                                                "ui.proposal", "ui.decision_diff", "ui.migrate")),
    ("ui.governance", "Governance", "governance", ("ui.governance_export",)),
    ("ui.catalogue_home", "Catalogue", None, ("ui.service_page", "ui.ci_page", "ui.blackout_page")),
    ("ui.change_calendar_page", "Change calendar", "change_calendar", ()),
    ("ui.trail", "Audit trail", "trail", ()),
    ("ui.held_mail", "Mail in", "mail_in", ()),
    ("ui.dead_letters_page", "Dead letters", "dead_letters", ()),
    ("ui.accounts_page", "Accounts", "accounts", ()),
)


def actor_or_none() -> Actor | None:
    try:
        return current_actor(required=False)
    except DomainError:  # a bad bearer token on a page: treat as signed out
        return None


def signed_in() -> Actor:
    actor = current_actor()
    assert actor is not None
    return actor


def page(act: str | None = None) -> Callable[[F], F]:
    """A page for signed-in users (who may do `act`, when given: policy.may). Without a session it sends the
    browser to sign in and back; to someone the policy refuses it answers 403 with the error page."""

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = actor_or_none()
            if actor is None:
                if request.method == "GET":
                    return redirect(url_for("ui.login", next=request.full_path.rstrip("?")))
                return redirect(url_for("ui.login"))
            if act is not None:
                policy.require(actor, act)
            return fn(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def safe_next(target: str | None, default: str) -> str:
    """Only local paths: a `next` parameter must never send a signed-in user to another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def arg_int(name: str) -> int | None:
    raw = (request.args.get(name) or "").strip()
    return int(raw) if raw.isdigit() else None


def nav_for(actor: Actor | None) -> list[dict[str, Any]]:
    if actor is None:
        return []
    current = request.endpoint or ""
    return [{"endpoint": ep, "label": label, "url": url_for(ep), "active": current == ep or current in also}
            for ep, label, act, also in NAV if act is None or policy.may(actor, act)]


def asset(path: str) -> str:
    """URL of a file under web/static with its modification time, so a rebuilt bundle is fetched again."""
    file = STATIC / path
    version = int(file.stat().st_mtime) if file.exists() else 0
    return url_for("static", filename=path, v=version)


def vendor_ready(name: str) -> bool:
    return (STATIC / "vendor" / f"{name}.js").exists()


@ui.app_context_processor
def _globals() -> dict[str, Any]:
    actor = actor_or_none()
    return {"actor": actor, "nav": nav_for(actor), "asset": asset, "vendor_ready": vendor_ready,
            "is_owner": bool(actor and policy.may(actor, "deploy")), "now": clock.now()}


@ui.after_request
def _headers(response: Response) -> Response:
    # Our own scripts only (bundled from npm); bpmn-js sets inline styles on SVG, fonts are data: URLs.
    response.headers.setdefault("Content-Security-Policy", (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "private, no-cache")
    return response


# ---------------------------------------------------------------------------------------------- filters

def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@ui.app_template_filter("when")
def when(value: Any) -> str:
    at = _as_datetime(value)
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "—"


@ui.app_template_filter("iso")
def iso(value: Any) -> str:
    at = _as_datetime(value)
    return at.astimezone(UTC).isoformat(timespec="seconds") if at else ""


def span(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{seconds}s"


@ui.app_template_filter("duration")
def duration(value: timedelta | None) -> str:
    return span(value)


@ui.app_template_filter("relative")
def relative(value: Any) -> str:
    at = _as_datetime(value)
    if at is None:
        return ""
    delta = at - clock.now()
    text = span(delta)
    return f"in {text}" if delta.total_seconds() > 0 else f"{text} ago"


@ui.app_template_filter("pretty")
def pretty(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, indent=1, ensure_ascii=False, default=str)
    return str(value)


@ui.app_template_filter("humanize")
def humanize(name: str) -> str:
    """`user_confirmed` -> "User confirmed", `startEvent` -> "Start event"."""
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in str(name)).replace("_", " ")
    return spaced.strip().capitalize()


@ui.app_template_filter("json_attr")
def json_attr(value: Any) -> Markup:
    """JSON for a data-* attribute (Jinja escapes the quotes)."""
    return Markup.escape(json.dumps(value, default=str))
