"""The demo catalogue `itsmflow seed-demo` adds: the services and configuration items of a small charity
(e-mail, file shares, the finance system, the donor CRM and the website that donors see, the network), with
support hours and a weekend-night maintenance window. Added through the same services as by hand, so every
object is in the audit trail; what exists already is left alone."""

from __future__ import annotations

from typing import Any

from engine.db.catalogue import Calendar, Service
from engine.db.cmdb import ConfigItem
from engine.db.database import Database, unit_of_work
from engine.services import calendars, catalogue, cmdb
from engine.services.actors import Actor

SEEDER = Actor("system", frozenset({"admin"}))
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
CALENDARS: list[dict[str, Any]] = [
    {"id": "office-hours", "name": "Office hours", "time_zone": "Europe/London",
     "description": "When the service desk answers", "hours": [{"day": d, "start": "08:00", "end": "18:00"}
                                                               for d in WEEKDAYS],
     "holidays": [{"date": "2026-12-25", "name": "Christmas Day"}, {"date": "2026-12-28", "name": "Boxing Day"},
                  {"date": "2027-01-01", "name": "New Year's Day"}]},
    {"id": "weekend-nights", "name": "Weekend nights", "time_zone": "Europe/London",
     "description": "Maintenance window: Saturday 22:00 to Sunday 06:00",
     "hours": [{"day": "sat", "start": "22:00", "end": "24:00"}, {"day": "sun", "start": "00:00", "end": "06:00"}]},
    {"id": "weeknights", "name": "Weeknights", "time_zone": "Europe/London",
     "description": "Maintenance window: weekdays 20:00 to 23:00",
     "hours": [{"day": d, "start": "20:00", "end": "23:00"} for d in WEEKDAYS]},
]
SERVICES: list[dict[str, Any]] = [
    {"id": "email", "name": "E-mail", "tier": 2, "owner_role": "resolver",
     "description": "Mailboxes, shared mailboxes and the supporters' enquiry address"},
    {"id": "file-shares", "name": "File shares", "tier": 3, "owner_role": "resolver",
     "description": "Team folders and the scanned archive", "maintenance_calendar": "weeknights"},
    {"id": "finance", "name": "Finance system", "tier": 2, "owner_role": "resolver",
     "description": "Ledger, payroll exports and Gift Aid claims"},
    {"id": "donor-crm", "name": "Donor CRM", "tier": 1, "donor_facing": True, "owner_user": "bob",
     "description": "Donor records, gifts, direct debits and campaigns"},
    {"id": "website", "name": "Website", "tier": 2, "donor_facing": True, "owner_role": "resolver",
     "description": "The public site and its donation pages"},
    {"id": "network", "name": "Network", "tier": 1, "owner_role": "resolver",
     "description": "Office network, Wi-Fi, VPN and the internet link"},
]
CIS: list[dict[str, Any]] = [
    {"id": "core-switch", "name": "Core switch", "type": "network-device", "services": ["network"]},
    {"id": "firewall", "name": "Firewall", "type": "network-device", "services": ["network"],
     "depends_on": ["core-switch"]},
    {"id": "vm-host-01", "name": "VM host 01", "type": "server", "services": ["file-shares", "finance", "donor-crm"],
     "depends_on": ["core-switch"]},
    {"id": "mail-tenant", "name": "Mail tenant", "type": "cloud-service", "services": ["email"],
     "depends_on": ["firewall"]},
    {"id": "file-server", "name": "File server", "type": "virtual-machine", "services": ["file-shares"],
     "runs_on": ["vm-host-01"]},
    {"id": "finance-db", "name": "Finance database", "type": "database", "services": ["finance"],
     "runs_on": ["vm-host-01"]},
    {"id": "finance-app", "name": "Finance application", "type": "application", "services": ["finance"],
     "depends_on": ["finance-db"]},
    {"id": "crm-db", "name": "CRM database", "type": "database", "services": ["donor-crm"],
     "runs_on": ["vm-host-01"]},
    {"id": "crm-app", "name": "CRM application", "type": "application", "services": ["donor-crm"],
     "depends_on": ["crm-db"], "owner_user": "bob"},
    {"id": "web-cms", "name": "Website CMS", "type": "cloud-service", "services": ["website"]},
    {"id": "donation-form", "name": "Donation form", "type": "application", "services": ["website"],
     "depends_on": ["web-cms", "crm-app"]},
]


def seed(db: Database) -> list[str]:
    """Adds what is missing; returns the ids added."""
    added = []
    with unit_of_work(db, readonly=True) as uow:
        have_cal = {c for c in (uow.session.get(Calendar, x["id"]) for x in CALENDARS) if c is not None}
        cal_ids = {c.id for c in have_cal}
        svc_ids = {s["id"] for s in SERVICES if uow.session.get(Service, s["id"]) is not None}
        ci_ids = {c["id"] for c in CIS if uow.session.get(ConfigItem, c["id"]) is not None}
    for body in CALENDARS:
        if body["id"] not in cal_ids:
            calendars.create(db, SEEDER, body)
            added.append(body["id"])
    for body in SERVICES:
        if body["id"] not in svc_ids:
            catalogue.create(db, SEEDER, {"support_calendar": "office-hours",
                                          "maintenance_calendar": "weekend-nights", **body})
            added.append(body["id"])
    for body in CIS:
        if body["id"] not in ci_ids:
            owner = {} if "owner_user" in body else {"owner_role": "resolver"}
            cmdb.create(db, SEEDER, {**owner, **body})
            added.append(body["id"])
    return added
