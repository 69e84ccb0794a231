"""Working-time calendars (support hours, maintenance windows): create, edit, delete, read, and the answer to
"is this instant inside". Every edit is an audit event in the same transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select

from engine import clock, worktime
from engine.db.catalogue import Calendar, CalendarHoliday, CalendarHours, Service
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.errors import Conflict, NotFound
from engine.services import audit
from engine.services import catalogue_input as check
from engine.services.actors import Actor
from engine.services.audit import NewEvent
from engine.services.catalogue_access import require_catalogue_admin

FIELDS = {"id", "name", "description", "time_zone", "hours", "holidays"}
MAX_SPANS, MAX_HOLIDAYS = 70, 400


def _parse_hours(raw: Any, errors: dict[str, str]) -> list[worktime.Span] | None:
    if not isinstance(raw, list) or len(raw) > MAX_SPANS:
        errors["hours"] = f"must be a list of at most {MAX_SPANS} {{day, start, end}} objects"
        return None
    spans = []
    for n, item in enumerate(raw, 1):
        if not isinstance(item, dict) or set(item) - {"day", "start", "end"}:
            errors["hours"] = f"entry {n} must be an object with day, start and end"
            return None
        day = str(item.get("day", "")).strip().lower()[:3]
        if day not in worktime.WEEKDAYS:
            errors["hours"] = f"entry {n}: day must be one of {', '.join(worktime.WEEKDAYS)}"
            return None
        try:
            spans.append(worktime.Span(worktime.WEEKDAYS.index(day), worktime.parse_clock(item.get("start", "")),
                                       worktime.parse_clock(item.get("end", ""))))
        except ValueError as exc:
            errors["hours"] = f"entry {n}: {exc}"
            return None
    problems = worktime.check_spans(spans)
    if problems:
        errors["hours"] = "; ".join(problems)
        return None
    return spans


def _parse_holidays(raw: Any, errors: dict[str, str]) -> dict[date, str] | None:
    if not isinstance(raw, list) or len(raw) > MAX_HOLIDAYS:
        errors["holidays"] = f"must be a list of at most {MAX_HOLIDAYS} {{date, name}} objects"
        return None
    days: dict[date, str] = {}
    for n, item in enumerate(raw, 1):
        if not isinstance(item, dict) or set(item) - {"date", "name"}:
            errors["holidays"] = f"entry {n} must be an object with date and name"
            return None
        try:
            day = date.fromisoformat(str(item.get("date", "")))
        except ValueError:
            errors["holidays"] = f"entry {n}: date must be a date like 2026-12-25"
            return None
        name = item.get("name") or ""
        if not isinstance(name, str) or len(name) > 200:
            errors["holidays"] = f"entry {n}: name must be text of at most 200 characters"
            return None
        if day in days:
            errors["holidays"] = f"{day.isoformat()} is listed twice"
            return None
        days[day] = name.strip()
    return days


def _row(uow: UnitOfWork, calendar_id: str) -> Calendar:
    row = uow.session.get(Calendar, calendar_id)
    if row is None:
        raise NotFound(f"no calendar {calendar_id}")
    return row


def _name_taken(uow: UnitOfWork, name: str, other_than: str | None = None) -> bool:
    stmt = select(Calendar.id).where(func.lower(Calendar.name) == name.lower())
    return any(cid != other_than for cid in uow.session.execute(stmt).scalars())


def view(uow: UnitOfWork, row: Calendar) -> dict[str, Any]:
    hours = uow.session.execute(select(CalendarHours).where(CalendarHours.calendar_id == row.id)
                                .order_by(CalendarHours.weekday, CalendarHours.start_minute)).scalars()
    holidays = uow.session.execute(select(CalendarHoliday).where(CalendarHoliday.calendar_id == row.id)
                                   .order_by(CalendarHoliday.day)).scalars()
    return {"id": row.id, "name": row.name, "description": row.description, "time_zone": row.time_zone,
            "hours": [{"day": worktime.WEEKDAYS[h.weekday], "start": worktime.clock_text(h.start_minute),
                       "end": worktime.clock_text(h.end_minute)} for h in hours],
            "holidays": [{"date": h.day.isoformat(), "name": h.name} for h in holidays],
            "updated_at": row.updated_at.isoformat()}


def list_calendars(uow: UnitOfWork) -> list[dict[str, Any]]:
    rows = uow.session.execute(select(Calendar).order_by(Calendar.name)).scalars()
    return [view(uow, r) for r in rows]


def get(uow: UnitOfWork, calendar_id: str) -> dict[str, Any]:
    return view(uow, _row(uow, calendar_id))


_computed: dict[tuple[str, str], worktime.WorkCalendar] = {}


def work_calendar_as_of(uow: UnitOfWork, calendar_id: str, updated_at: datetime) -> worktime.WorkCalendar:
    """The calendar as of its last edit, kept per process: every edit moves updated_at, so a cached copy is
    never stale, and a conflict check that knows updated_at (one joined query) reads no hours or holidays."""
    key = (calendar_id, updated_at.isoformat())
    found = _computed.get(key)
    if found is None:
        found = _computed[key] = work_calendar(uow, calendar_id)
        if len(_computed) > 500:  # old versions of edited calendars: drop them all, the live ones come back
            _computed.clear()
            _computed[key] = found
    return found


def work_calendar(uow: UnitOfWork, calendar_id: str) -> worktime.WorkCalendar:
    """The calendar as the pure worktime module computes with it."""
    row = _row(uow, calendar_id)
    spans = tuple(worktime.Span(h.weekday, h.start_minute, h.end_minute) for h in uow.session.execute(
        select(CalendarHours).where(CalendarHours.calendar_id == row.id)).scalars())
    days = frozenset(uow.session.execute(
        select(CalendarHoliday.day).where(CalendarHoliday.calendar_id == row.id)).scalars())
    return worktime.WorkCalendar(row.time_zone, spans, days)


def open_at(uow: UnitOfWork, calendar_id: str, at: datetime) -> dict[str, Any]:
    cal = work_calendar(uow, calendar_id)
    nxt = worktime.next_open(cal, at)
    return {"calendar": calendar_id, "at": at.isoformat(), "open": worktime.is_open(cal, at),
            "next_open": nxt.isoformat() if nxt else None,
            "local_time": at.astimezone(cal.zone).isoformat()}


def _write_parts(uow: UnitOfWork, calendar_id: str, spans: list[worktime.Span] | None,
                 holidays: dict[date, str] | None) -> None:
    if spans is not None:
        uow.session.execute(delete(CalendarHours).where(CalendarHours.calendar_id == calendar_id))
        for s in spans:
            uow.session.add(CalendarHours(calendar_id=calendar_id, weekday=s.weekday, start_minute=s.start,
                                          end_minute=s.end))
    if holidays is not None:
        uow.session.execute(delete(CalendarHoliday).where(CalendarHoliday.calendar_id == calendar_id))
        for day, name in holidays.items():
            uow.session.add(CalendarHoliday(calendar_id=calendar_id, day=day, name=name))


def create(db: Database, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    require_catalogue_admin(actor, "making a calendar")
    check.refuse_unknown(body, FIELDS)
    errors: dict[str, str] = {}
    name = check.text(body, "name", errors, required=True)
    cal_id = check.new_id(body, name, errors)
    description = check.text(body, "description", errors, maxlength=2000)
    zone_problem = worktime.check_zone(body.get("time_zone", ""))
    if zone_problem:
        errors["time_zone"] = zone_problem
    spans = _parse_hours(body.get("hours", []), errors)
    holidays = _parse_holidays(body.get("holidays", []), errors)
    check.raise_if(errors)
    with unit_of_work(db) as uow:
        if uow.session.get(Calendar, cal_id) is not None:
            raise Conflict(f"a calendar {cal_id} already exists", fields={"id": "is taken"})
        if _name_taken(uow, name or ""):
            raise Conflict(f"a calendar named {name!r} already exists", fields={"name": "is taken"})
        now = clock.now()
        row = Calendar(id=cal_id, name=name, description=description or "", time_zone=body["time_zone"].strip(),
                       created_at=now, updated_at=now)
        uow.session.add(row)
        uow.session.flush()
        _write_parts(uow, row.id, spans, holidays)
        uow.session.flush()
        result = view(uow, row)
        audit.append(uow, [NewEvent("catalogue.calendar_created", actor.username, data={"calendar": result})])
        uow.commit()
        return result


def update(db: Database, actor: Actor, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
    require_catalogue_admin(actor, "editing a calendar")
    check.refuse_unknown(body, FIELDS - {"id"})
    errors: dict[str, str] = {}
    name = check.text(body, "name", errors, required=True) if "name" in body else None
    description = check.text(body, "description", errors, maxlength=2000) if "description" in body else None
    if "time_zone" in body and (problem := worktime.check_zone(body["time_zone"])):
        errors["time_zone"] = problem
    spans = _parse_hours(body["hours"], errors) if "hours" in body else None
    holidays = _parse_holidays(body["holidays"], errors) if "holidays" in body else None
    check.raise_if(errors)
    with unit_of_work(db) as uow:
        row = _row(uow, calendar_id)
        before = view(uow, row)
        if name is not None:
            if _name_taken(uow, name, other_than=row.id):
                raise Conflict(f"a calendar named {name!r} already exists", fields={"name": "is taken"})
            row.name = name
        if description is not None:
            row.description = description
        if "time_zone" in body:
            row.time_zone = body["time_zone"].strip()
        _write_parts(uow, row.id, spans, holidays)
        row.updated_at = clock.now()
        uow.session.flush()
        after = view(uow, row)
        changes = {k: {"old": before[k], "new": after[k]} for k in after
                   if k != "updated_at" and before[k] != after[k]}
        if changes:
            audit.append(uow, [NewEvent("catalogue.calendar_updated", actor.username,
                                        data={"calendar": row.id, "changes": changes})])
        uow.commit()
        return after


def delete_calendar(db: Database, actor: Actor, calendar_id: str) -> None:
    require_catalogue_admin(actor, "deleting a calendar")
    with unit_of_work(db) as uow:
        row = _row(uow, calendar_id)
        users = list(uow.session.execute(select(Service.id).where(or_(
            Service.support_calendar_id == row.id, Service.maintenance_calendar_id == row.id))).scalars())
        if users:
            raise Conflict(f"calendar {row.id} is used by {', '.join(sorted(users))}", services=sorted(users))
        gone = view(uow, row)
        uow.session.delete(row)
        uow.session.flush()
        audit.append(uow, [NewEvent("catalogue.calendar_deleted", actor.username, data={"calendar": gone})])
        uow.commit()
