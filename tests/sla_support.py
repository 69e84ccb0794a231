"""Seeding SLA scenarios for the report tests (API and browser): a calendar, two services and five incidents
whose clocks are worked out by hand in the comments.

Mail runs on the Lagos office calendar (UTC+1, Mon-Fri 09:00-17:00, 9 March a holiday); VPN has no calendar,
so every hour counts. P2 targets: respond 30 min, resolve 8 h; P3: respond 2 h, resolve 24 h."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from engine.db.database import Database
from engine.services import calendars, catalogue, instances
from tests.conftest import ALICE, BOB, GRACE, IVAN
from tests.processes.response_support import RECORD
from tests.support import do

PRIORITY = {"P2": ("high", "medium"), "P3": ("medium", "medium")}


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour - 1, minute, tzinfo=UTC)


def incident(db: Database, t: time_machine.Coordinates, service: str, priority: str, at: datetime) -> str:
    t.move_to(at)
    key = instances.start(db, IVAN, "response", {"query_type": "incident"}).business_key
    impact, urgency = PRIORITY[priority]
    do(db, ALICE, key, "record", {**RECORD, "service": service, "query_type": "incident", "impact": impact,
                                  "urgency": urgency})
    return key


def first_line(db: Database, t: time_machine.Coordinates, key: str, at: datetime, restored: bool = True) -> None:
    t.move_to(at)
    do(db, ALICE, key, "restore_first_line", {"resolution": "tried", "resolved_first_line": restored})


def confirm(db: Database, t: time_machine.Coordinates, key: str, at: datetime) -> None:
    t.move_to(at)
    do(db, IVAN, key, "confirm", {"user_confirmed": True})


def seed(db: Database) -> dict[str, str]:
    """The calendar, the services and incidents A-E (March and April 2026); returns their business keys."""
    keys: dict[str, str] = {}
    with time_machine.travel(local(3, 1, 12), tick=False) as t:
        calendars.create(db, GRACE, {"id": "lagos-office", "name": "Lagos office", "time_zone": "Africa/Lagos",
                                     "hours": [{"day": d, "start": "09:00", "end": "17:00"}
                                               for d in ("mon", "tue", "wed", "thu", "fri")],
                                     "holidays": [{"date": "2026-03-09", "name": "Test holiday"}]})
        catalogue.create(db, GRACE, {"id": "mail", "name": "Mail", "owner_role": "service_desk", "tier": 3,
                                     "support_calendar": "lagos-office"})
        catalogue.create(db, GRACE, {"id": "vpn", "name": "VPN", "owner_role": "service_desk", "tier": 3})
        # A: respond 20 min (met), resolve 20 min before the requester confirms (met)
        keys["A"] = incident(db, t, "mail", "P2", local(3, 2, 10))
        first_line(db, t, keys["A"], local(3, 2, 10, 20))
        confirm(db, t, keys["A"], local(3, 2, 11))
        # B: raised 16:50, first line next morning 09:30: 10 + 30 = 40 min > 30 (breached); resolve 40 min (met)
        keys["B"] = incident(db, t, "mail", "P2", local(3, 2, 16, 50))
        first_line(db, t, keys["B"], local(3, 3, 9, 30))
        confirm(db, t, keys["B"], local(3, 3, 10))
        # C: P3 from Wed 4 March 09:00; 24 open hours are used up Fri 6 17:00 (Mon 9 is a holiday); restored
        # Tue 10 10:00 = 25 h (breached); responded after 1 h (met)
        keys["C"] = incident(db, t, "mail", "P3", local(3, 4, 9))
        first_line(db, t, keys["C"], local(3, 4, 10), restored=False)
        t.move_to(local(3, 10, 10))
        do(db, BOB, keys["C"], "restore", {"resolution": "replaced the disk"})
        confirm(db, t, keys["C"], local(3, 10, 11))
        # D: VPN, no calendar: raised Thursday 22:00 UTC, first line 22:20 (met); never confirmed (resolve open)
        keys["D"] = incident(db, t, "vpn", "P2", datetime(2026, 3, 5, 22, tzinfo=UTC))
        first_line(db, t, keys["D"], datetime(2026, 3, 5, 22, 20, tzinfo=UTC))
        # E: April: responded after 45 min (breached), resolved then (met)
        keys["E"] = incident(db, t, "mail", "P2", local(4, 1, 10))
        first_line(db, t, keys["E"], local(4, 1, 10, 45))
        confirm(db, t, keys["E"], local(4, 1, 11))
    return keys
