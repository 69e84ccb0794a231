"""Configuration of the service desk's tools, read from the environment when asked (so a test or a worker
started with other settings sees them): attachment limits, SMTP, mail in, and the address of the web app."""

from __future__ import annotations

import os
from dataclasses import dataclass

# Extension -> the content type we serve it as. Only these are accepted; the uploader's claimed type is ignored.
KNOWN_TYPES = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
    "txt": "text/plain", "log": "text/plain", "csv": "text/csv", "json": "application/json",
    "eml": "message/rfc822", "zip": "application/zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
DEFAULT_TYPES = "pdf,png,jpg,jpeg,gif,txt,log,csv,json,eml,zip,docx,xlsx,pptx,odt,ods"
DEFAULT_MAX_BYTES = 3 * 1024 * 1024


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _int(name: str, default: int) -> int:
    raw = _env(name)
    return int(raw) if raw.isdigit() else default


@dataclass(frozen=True)
class AttachmentLimits:
    max_bytes: int
    types: dict[str, str]  # allowed extension -> content type


def attachment_limits() -> AttachmentLimits:
    """ITSMFLOW_ATTACHMENT_MAX_BYTES (default 3 MiB) and ITSMFLOW_ATTACHMENT_TYPES (extensions, comma-separated,
    from the known list)."""
    wanted = [t.strip().lower().lstrip(".") for t in _env("ITSMFLOW_ATTACHMENT_TYPES", DEFAULT_TYPES).split(",")]
    return AttachmentLimits(_int("ITSMFLOW_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES),
                            {t: KNOWN_TYPES[t] for t in wanted if t in KNOWN_TYPES})


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    username: str
    password: str
    starttls: bool
    sender: str
    timeout: float


def smtp() -> Smtp | None:
    """ITSMFLOW_SMTP_HOST (unset: no mail is sent, notifications stay in the app), ITSMFLOW_SMTP_PORT (25),
    ITSMFLOW_SMTP_USER / ITSMFLOW_SMTP_PASSWORD, ITSMFLOW_SMTP_STARTTLS=1, ITSMFLOW_MAIL_FROM."""
    host = _env("ITSMFLOW_SMTP_HOST")
    if not host:
        return None
    return Smtp(host, _int("ITSMFLOW_SMTP_PORT", 25), _env("ITSMFLOW_SMTP_USER"), _env("ITSMFLOW_SMTP_PASSWORD"),
                _env("ITSMFLOW_SMTP_STARTTLS") == "1", service_desk_address(), 10.0)


def service_desk_address() -> str:
    """The desk's address: notifications come from it, replies and new mail go to it (ITSMFLOW_MAIL_FROM)."""
    return _env("ITSMFLOW_MAIL_FROM", "servicedesk@itsmflow.localhost").lower()


def mail_domain() -> str:
    """ITSMFLOW_MAIL_DOMAIN: a user without an e-mail address of their own is <user name>@this domain."""
    return _env("ITSMFLOW_MAIL_DOMAIN").lower()


def base_url() -> str:
    """Where the web app is reached, for links in mail (ITSMFLOW_BASE_URL)."""
    return _env("ITSMFLOW_BASE_URL", "http://127.0.0.1:5000").rstrip("/")


def mail_in_process() -> str:
    """The process a new mail to the desk starts (ITSMFLOW_MAILIN_PROCESS); empty: every mail is held."""
    return _env("ITSMFLOW_MAILIN_PROCESS")


def digest_minutes() -> int:
    return max(1, _int("ITSMFLOW_DIGEST_MINUTES", 60))


def sla_warning_minutes() -> int:
    """How long before a task's due time its people are warned (ITSMFLOW_SLA_WARNING_MINUTES, default 60)."""
    return max(1, _int("ITSMFLOW_SLA_WARNING_MINUTES", 60))
