"""The conflict check of one change, in one round trip to the database.

The CAB's approval task, the impact view and `GET /changes/conflicts?ref=` run it, and the calendar runs it per
change shown, so its cost is per call: B8 (bench/b8_change_conflicts.py) found the database's share at 0.5 ms of
~40 ms under load, the rest being six round trips and ORM row handling. So one Core statement reads every
fact the check needs as plain rows, one UNION ALL part each (CTEs on indexes):

    window     the change's window (by its business key or instance id)
    own_ci     its CIs
    touched    its service and the services its CIs serve, with the maintenance calendar's version
    overlap    open windows overlapping it on its service or on one of its CIs, once per CI they share
    blackout   blackouts overlapping it, for every service or one it touches

and Python only assembles the answer; maintenance calendars are built once per calendar version and kept in the
process (calendars.work_calendar_as_of)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, TextualSelect, select, text

from engine import worktime
from engine.db.database import UnitOfWork
from engine.db.models import ProcessInstance, UtcDateTime
from engine.errors import NotFound
from engine.services import calendars

OPEN = ("running", "waiting", "error")

# Written as SQL text, not built per call: building and cache-keying the equivalent Core statement cost ~30 ms a
# check under load (B8's profile), more than the database's work. A NULL in one part takes its column's type from
# the others on PostgreSQL; .columns() gives the result types (UTC datetimes, booleans) on both databases.
CHECK_SQL = """
WITH w AS (
  SELECT instance_id, business_key, process_key, title, service_id, starts_at, ends_at, approved, status
  FROM record_window WHERE {window}
), own AS (
  SELECT ci_id FROM record_ci WHERE instance_id IN (SELECT instance_id FROM w)
), svc AS (
  SELECT service_id AS id FROM w WHERE service_id IS NOT NULL
  UNION SELECT service_id FROM ci_service WHERE ci_id IN (SELECT ci_id FROM own)
)
SELECT 'window' AS part, instance_id AS num, business_key AS ref, title, service_id AS service, NULL AS ci,
       starts_at, ends_at, approved, status, process_key AS process
FROM w
UNION ALL
SELECT 'ci', NULL, NULL, NULL, NULL, ci_id, NULL, NULL, NULL, NULL, NULL FROM own
UNION ALL
SELECT 'touched', NULL, s.id, s.name, s.maintenance_calendar_id, NULL, c.updated_at, NULL, NULL, NULL, NULL
FROM service s LEFT JOIN calendar c ON c.id = s.maintenance_calendar_id
WHERE s.id IN (SELECT id FROM svc)
UNION ALL
SELECT 'overlap', o.instance_id, o.business_key, o.title, o.service_id, shared.ci_id, o.starts_at, o.ends_at,
       NULL, NULL, NULL
FROM w JOIN record_window o
  ON o.instance_id <> w.instance_id AND o.status IN ({open}) AND o.starts_at < w.ends_at AND o.ends_at > w.starts_at
  AND (o.service_id = w.service_id
       OR EXISTS (SELECT 1 FROM record_ci x WHERE x.instance_id = o.instance_id AND x.ci_id IN (SELECT ci_id FROM own)))
LEFT JOIN record_ci shared ON shared.instance_id = o.instance_id AND shared.ci_id IN (SELECT ci_id FROM own)
UNION ALL
SELECT 'blackout', b.id, NULL, b.name, b.service_id, NULL, b.starts_at, b.ends_at, NULL, NULL, NULL
FROM w JOIN blackout b ON b.starts_at < w.ends_at AND b.ends_at > w.starts_at
WHERE b.service_id IS NULL OR b.service_id IN (SELECT id FROM svc)
"""
TYPES = {"num": Integer, "ref": String, "title": String, "service": String, "ci": String, "starts_at": UtcDateTime,
         "ends_at": UtcDateTime, "approved": Boolean, "status": String, "process": String}


def _query(window: str) -> TextualSelect:
    sql = CHECK_SQL.format(window=window, open=", ".join(f"'{s}'" for s in OPEN))
    return text(sql).columns(**TYPES)


BY_KEY = _query("instance_id IN (SELECT id FROM process_instance WHERE business_key = :key)")
BY_INSTANCE = _query("instance_id = :instance")


def _overlaps(window: dict[str, Any], cis: list[str], rows: list[Any]) -> list[dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for r in rows:
        hit = found.setdefault(r.num, {"row": r, "cis": []})
        if r.ci is not None:
            hit["cis"].append(r.ci)
    service = window["service"]
    result = []
    for hit in sorted(found.values(), key=lambda h: (h["row"].starts_at, h["row"].ref)):
        other, shared = hit["row"], sorted(hit["cis"])
        same_service = bool(service) and other.service == service
        on = ([f"service {service}"] if same_service else []) + [f"CI {c}" for c in shared]
        result.append({"kind": "overlap", "with": other.ref, "title": other.title,
                       "service": service if same_service else None, "cis": shared,
                       "starts_at": other.starts_at.isoformat(), "ends_at": other.ends_at.isoformat(),
                       "on": ", ".join(on),
                       "message": f"overlaps {other.ref} ({other.title}) on {', '.join(on)}"})
    return result


def _outside_maintenance(uow: UnitOfWork, starts: datetime, ends: datetime,
                         rows: list[Any]) -> list[dict[str, Any]]:
    found = []
    for r in sorted(rows, key=lambda r: r.ref):
        calendar_id, version = r.service, r.starts_at
        if calendar_id is None or version is None:
            continue
        if not worktime.covers(calendars.work_calendar_as_of(uow, calendar_id, version), starts, ends):
            found.append({"kind": "outside_maintenance", "service": r.ref, "calendar": calendar_id,
                          "message": f"the window is not inside the maintenance window of {r.title} "
                                     f"({calendar_id})"})
    return found


def _blackouts(rows: list[Any]) -> list[dict[str, Any]]:
    return [{"kind": "blackout", "blackout": r.num, "name": r.title, "service": r.service,
             "starts_at": r.starts_at.isoformat(), "ends_at": r.ends_at.isoformat(),
             "message": f"falls in the blackout {r.title!r}" + (f" for {r.service}" if r.service else "")}
            for r in sorted(rows, key=lambda r: (r.starts_at, r.num))]


def check(uow: UnitOfWork, query: TextualSelect, params: dict[str, Any]) -> dict[str, Any] | None:
    """The window the query selects as a calendar entry with its conflicts, or None when there is none."""
    by_part: dict[str, list[Any]] = {"window": [], "ci": [], "touched": [], "overlap": [], "blackout": []}
    for row in uow.session.connection().execute(query, params):
        by_part[row.part].append(row)
    if not by_part["window"]:
        return None
    w = by_part["window"][0]
    cis = sorted(r.ci for r in by_part["ci"])
    window = {"business_key": w.ref, "process": w.process, "title": w.title, "service": w.service, "cis": cis,
              "starts_at": w.starts_at.isoformat(), "ends_at": w.ends_at.isoformat(), "approved": w.approved,
              "status": w.status}
    conflicts = (_overlaps(window, cis, by_part["overlap"])
                 + _outside_maintenance(uow, w.starts_at, w.ends_at, by_part["touched"])
                 + _blackouts(by_part["blackout"]))
    return {**window, "conflicts": conflicts}


def for_record(uow: UnitOfWork, business_key: str) -> dict[str, Any]:
    found = check(uow, BY_KEY, {"key": business_key})
    if found is not None:
        return found
    if uow.session.execute(select(ProcessInstance.id).where(ProcessInstance.business_key == business_key)).first():
        raise NotFound(f"{business_key} has no change window yet", fields={"ref": "has no window"})
    raise NotFound(f"no record {business_key}")


def for_instance(uow: UnitOfWork, instance_id: int) -> dict[str, Any] | None:
    return check(uow, BY_INSTANCE, {"instance": instance_id})
