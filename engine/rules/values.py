"""FEEL value semantics on plain Python values: kinds, comparison, ISO text, typeRef coercion, display.

FEEL values map onto Python as: number -> int/float/Decimal, string -> str, boolean -> bool, null -> None,
date -> datetime.date, date and time -> datetime.datetime, days-and-time duration -> datetime.timedelta.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

# bool is deliberately absent: in Python True == 1, in FEEL true is not a number.
NUMBER_TYPES = frozenset({int, float, Decimal})

NULL, NUMBER, STRING, BOOLEAN, DATE, DATETIME, DURATION, OTHER = range(8)
KIND_NAMES = ("null", "number", "string", "boolean", "date", "date and time", "duration", "other")


def kind_of(value: Any) -> int:
    if value is None:
        return NULL
    t = type(value)
    if t in NUMBER_TYPES:
        return NUMBER
    if t is bool:
        return BOOLEAN
    if isinstance(value, str):
        return STRING
    # datetime is a subclass of date, so it has to be tested first.
    if isinstance(value, datetime):
        return DATETIME
    if isinstance(value, date):
        return DATE
    if isinstance(value, timedelta):
        return DURATION
    return OTHER


def as_utc(value: datetime) -> datetime:
    """Naive date-times are read as UTC, so tables written without an offset compare with JSON 'Z' data."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def compare(a: Any, b: Any) -> int | None:
    """Three-way comparison, or None when FEEL says the two values are not comparable (null, mixed types)."""
    ka = kind_of(a)
    if ka != kind_of(b) or ka in (NULL, BOOLEAN, OTHER):
        return None
    if ka == DATETIME:
        a, b = as_utc(a), as_utc(b)
    try:
        return (a > b) - (a < b)
    except TypeError:
        return None


def equal(a: Any, b: Any) -> bool:
    ka = kind_of(a)
    if ka != kind_of(b):
        return False
    if ka == NULL:
        return True
    if ka == DATETIME:
        return as_utc(a) == as_utc(b)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - foreign objects from caller data must not break evaluation
        return False


# ---------------------------------------------------------------------------------------------- ISO text

_DATE_RE = re.compile(r"-?\d{4,9}-\d{2}-\d{2}")
_DATETIME_RE = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|z|[+-]\d{2}:\d{2})?"
)
_DURATION_RE = re.compile(
    r"(-)?P(?!$)(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)
_YEAR_MONTH_RE = re.compile(r"-?P(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T.*)?")


def parse_date(text: str) -> date | None:
    if not _DATE_RE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_datetime(text: str) -> datetime | None:
    m = _DATETIME_RE.fullmatch(text)
    if not m:
        return None
    day, clock, zone = m.groups()
    if "." in clock:
        # Python takes at most microseconds; FEEL allows nanoseconds, so the extra digits are dropped.
        whole, frac = clock.split(".")
        clock = f"{whole}.{frac[:6].ljust(6, '0')}"
    if zone in ("Z", "z"):
        zone = "+00:00"
    try:
        return datetime.fromisoformat(f"{day}T{clock}{zone or ''}")
    except ValueError:
        return None


def parse_duration(text: str) -> timedelta | None:
    m = _DURATION_RE.fullmatch(text)
    if not m:
        return None
    sign, weeks, days, hours, minutes, seconds = m.groups()
    try:
        value = timedelta(
            weeks=int(weeks or 0), days=int(days or 0), hours=int(hours or 0),
            minutes=int(minutes or 0), seconds=float(seconds or 0),
        )
    except OverflowError:
        return None
    return -value if sign else value


def is_year_month_duration(text: str) -> bool:
    return bool(_YEAR_MONTH_RE.fullmatch(text)) and ("Y" in text or "M" in text.split("T")[0])


def format_duration(value: timedelta) -> str:
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    days, rest = value.days, value.seconds
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = f"{sign}P"
    if days:
        out += f"{days}D"
    clock = ""
    if hours:
        clock += f"{hours}H"
    if minutes:
        clock += f"{minutes}M"
    if seconds or value.microseconds:
        clock += f"{seconds}.{value.microseconds:06d}".rstrip("0").rstrip(".") + "S"
    if clock:
        out += "T" + clock
    return out if (days or clock) else "PT0S"


# ---------------------------------------------------------------------------------------------- typeRef

_INTEGER_TYPES = {"integer", "int", "long", "short", "byte"}
_FLOAT_TYPES = {"double", "float"}
_DATE_TYPES = {"date"}
_DATETIME_TYPES = {"datetime", "date and time"}
_DURATION_TYPES = {"duration", "daytimeduration", "days and time duration"}


def _to_integer(value: Any) -> Any:
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def _to_float(value: Any) -> Any:
    return float(value) if type(value) is int else value


def _to_date(value: Any) -> Any:
    if isinstance(value, str):
        parsed = parse_date(value)
        if parsed is None:
            stamp = parse_datetime(value)
            parsed = stamp.date() if stamp is not None else None
        return value if parsed is None else parsed
    if isinstance(value, datetime):
        return value.date()
    return value


def _to_datetime(value: Any) -> Any:
    if isinstance(value, str):
        parsed: Any = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            parsed = datetime(day.year, day.month, day.day) if day is not None else None
        return value if parsed is None else parsed
    if type(value) is date:
        return datetime(value.year, value.month, value.day)
    return value


def _to_duration(value: Any) -> Any:
    if isinstance(value, str):
        parsed = parse_duration(value)
        return value if parsed is None else parsed
    return value


def coercer_for(type_ref: str | None) -> Callable[[Any], Any] | None:
    """The conversion applied to values of a column with this typeRef, or None to take values as they are.

    Only unambiguous conversions: int<->float for numeric columns, ISO text for temporal columns (JSON has no
    dates). "5" is never turned into 5: a string in a number column is a modelling or data error to be seen.
    """
    if not type_ref:
        return None
    name = type_ref.rsplit(":", 1)[-1].strip().lower()
    if name in _INTEGER_TYPES:
        return _to_integer
    if name in _FLOAT_TYPES:
        return _to_float
    if name in _DATE_TYPES:
        return _to_date
    if name in _DATETIME_TYPES:
        return _to_datetime
    if name in _DURATION_TYPES:
        return _to_duration
    return None


# ---------------------------------------------------------------------------------------------- output forms


def to_json(value: Any) -> Any:
    """A JSON-safe copy: temporal values become ISO strings, Decimals become numbers."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(v) for v in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (int, float)):
        return float(value) if isinstance(value, float) else int(value)
    return str(value)


def feel_text(value: Any) -> str:
    """The value written as a FEEL literal, for explanations and test messages."""
    kind = kind_of(value)
    if kind == NULL:
        return "null"
    if kind == BOOLEAN:
        return "true" if value else "false"
    if kind == STRING:
        return json.dumps(value, ensure_ascii=False)
    if kind == NUMBER:
        return str(value)
    if kind == DATE:
        return f'date("{value.isoformat()}")'
    if kind == DATETIME:
        return f'date and time("{value.isoformat()}")'
    if kind == DURATION:
        return f'duration("{format_duration(value)}")'
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {feel_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(feel_text(v) for v in value) + "]"
    return str(value)
