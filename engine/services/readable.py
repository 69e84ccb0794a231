"""Record data as people read it: the labels the forms give each field instead of variable names, enum values
by their option names, ISO 8601 durations and times in words, nested values as lines instead of JSON."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from engine.services import specs

# Data the engine keeps for itself, shown elsewhere on the page (key, starter, origin) or not at all.
ENGINE_FIELDS = ("business_key", "started_by", "origin_key", "case_key")
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
                       r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_REPEAT = re.compile(r"^R(\d*)/(P[^/]+)$")
_UNITS = ("year", "month", "week", "day", "hour", "minute", "second")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def duration_words(text: str) -> str | None:
    """`PT15M` -> "15 minutes", `P1DT2H` -> "1 day 2 hours", `R3/PT10M` -> "every 10 minutes, 3 times";
    None when the text is not an ISO 8601 duration."""
    raw = text.strip().upper()
    repeat = _REPEAT.match(raw)
    if repeat:
        every = duration_words(repeat.group(2))
        if every is None:
            return None
        times = repeat.group(1)
        return f"every {every}" + (f", {times} times" if times else "")
    found = _DURATION.match(raw)
    if not found or raw in ("P", "PT"):
        return None
    parts = []
    for unit, amount in zip(_UNITS, found.groups(), strict=True):
        if amount is None:
            continue
        number = float(amount)
        shown = f"{number:g}"
        parts.append(f"{shown} {unit}{'' if number == 1 else 's'}")
    return " ".join(parts) if parts else "no time"


def time_words(text: str) -> str | None:
    if not _ISO_TIME.match(text):
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def humanize(name: str) -> str:
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in str(name)).replace("_", " ")
    return spaced.strip().capitalize()


def text_of(value: Any, options: dict[str, str] | None = None) -> str:
    """One value as text: yes/no, option names, durations and times in words; lists joined; never JSON."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        if options and value in options:
            return options[value]
        return duration_words(value) or time_words(value) or value
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(text_of(v) for v in value) if value else "—"
    if isinstance(value, dict):
        return "; ".join(f"{humanize(k)}: {text_of(v)}" for k, v in value.items()) if value else "—"
    return str(value)


def field_labels(lv: specs.LoadedVersion) -> dict[str, dict[str, Any]]:
    """Every form field of a version by id: its label and its option names (the first form that asks wins)."""
    found: dict[str, dict[str, Any]] = {}
    for el in lv.meta.elements.values():
        for f in el.form:
            if f.id not in found:
                found[f.id] = {"label": f.label or humanize(f.id), "secret": f.secret,
                               "options": {o.get("id", ""): o.get("name", "") for o in f.options or []}}
    return found


def rows(labels: dict[str, dict[str, Any]], data: dict[str, Any], hide: tuple[str, ...] = ENGINE_FIELDS,
         secret: frozenset[str] = frozenset()) -> list[dict[str, str]]:
    """The data as (id, label, text) rows, in the order the data holds them."""
    out = []
    for key, value in data.items():
        if key in hide:
            continue
        meta = labels.get(key, {})
        hidden = key in secret or meta.get("secret")
        text = "********" if hidden and value not in (None, "") else text_of(value, meta.get("options"))
        out.append({"id": key, "label": meta.get("label") or humanize(key), "text": text})
    return out


def for_process(uow: Any, process_key: str, version: int) -> dict[str, dict[str, Any]]:
    """The labels of a deployed version (its parsed spec is cached, so this is one small query)."""
    from sqlalchemy import select

    from engine.db.models import ProcessVersion

    version_id = uow.session.execute(select(ProcessVersion.id).where(
        ProcessVersion.key == process_key, ProcessVersion.version == version)).scalar_one_or_none()
    return field_labels(specs.loaded(uow, version_id)) if version_id is not None else {}
