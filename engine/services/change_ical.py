"""The change calendar as an iCalendar (RFC 5545) feed, written with the `icalendar` package: one VEVENT per
window, its UID the record's business key, so a calendar client updates an event when the window moves."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def feed(items: list[dict[str, Any]], now: datetime, base_url: str = "") -> bytes:
    from icalendar import Calendar, Event  # imported here: only the feed needs it

    cal = Calendar()
    cal.add("prodid", "-//itsmflow//change calendar//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Change calendar")
    for item in items:
        event = Event()
        event.add("uid", f"{item['business_key']}@itsmflow")
        event.add("dtstamp", now)
        event.add("dtstart", datetime.fromisoformat(item["starts_at"]))
        event.add("dtend", datetime.fromisoformat(item["ends_at"]))
        event.add("summary", f"{item['business_key']} {item['title']}".strip())
        state = "approved" if item["approved"] else "not approved yet"
        lines = [f"Service: {item['service'] or '-'}", f"CIs: {', '.join(item['cis']) or '-'}", f"Status: {state}"]
        event.add("description", "\n".join(lines))
        event.add("status", "CONFIRMED" if item["approved"] else "TENTATIVE")
        if base_url:
            event.add("url", f"{base_url.rstrip('/')}/records/{item['business_key']}")
        cal.add_component(event)
    return cal.to_ical()
