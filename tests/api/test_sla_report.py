"""The SLA compliance report (API JSON and CSV) against figures worked out by hand (tests/sla_support.py)."""

from __future__ import annotations

import pytest
import time_machine

from tests.api.conftest import Api
from tests.sla_support import local, seed


@pytest.fixture
def seeded(api: Api) -> tuple[Api, dict[str, str]]:
    return api, seed(api.db)


def test_compliance_by_month_service_and_priority_matches_the_hand_computed_figures(
        seeded: tuple[Api, dict[str, str]]) -> None:
    api, k = seeded
    with time_machine.travel(local(4, 2, 12), tick=False):
        report = api.get("/reports/sla?from=2026-03&to=2026-04", "alice").json
    rows = {(r["month"], r["service"], r["priority"], r["clock"]):
            (r["records"], r["met"], r["breached"], r["open"], r["compliance_percent"], r["breached_records"])
            for r in report["rows"]}
    assert rows == {
        ("2026-03", "mail", "P2", "respond"): (2, 1, 1, 0, 50.0, [k["B"]]),
        ("2026-03", "mail", "P2", "resolve"): (2, 2, 0, 0, 100.0, []),
        ("2026-03", "mail", "P3", "respond"): (1, 1, 0, 0, 100.0, []),
        ("2026-03", "mail", "P3", "resolve"): (1, 0, 1, 0, 0.0, [k["C"]]),
        ("2026-03", "vpn", "P2", "respond"): (1, 1, 0, 0, 100.0, []),
        ("2026-03", "vpn", "P2", "resolve"): (1, 0, 0, 1, None, []),
        ("2026-04", "mail", "P2", "respond"): (1, 0, 1, 0, 0.0, [k["E"]]),
        ("2026-04", "mail", "P2", "resolve"): (1, 1, 0, 0, 100.0, []),
    }
    totals = {t["clock"]: (t["records"], t["met"], t["breached"], t["open"], t["compliance_percent"])
              for t in report["totals"]}
    assert totals == {"respond": (5, 3, 2, 0, 60.0), "resolve": (5, 3, 1, 1, 75.0)}


def test_filters_csv_and_bad_input(seeded: tuple[Api, dict[str, str]]) -> None:
    api, _ = seeded
    with time_machine.travel(local(4, 2, 12), tick=False):
        only = api.get("/reports/sla?from=2026-03&to=2026-04&service=mail&priority=P2", "alice").json
        csv_text = api.get("/reports/sla?from=2026-03&to=2026-03&format=csv", "heidi").get_data(as_text=True)
        bad_month = api.get("/reports/sla?from=2026-13", "alice")
        backwards = api.get("/reports/sla?from=2026-04&to=2026-03", "alice")
        bad_format = api.get("/reports/sla?format=xml", "alice")
        requester = api.get("/reports/sla", "ivan")
    assert {t["clock"]: (t["met"], t["breached"], t["compliance_percent"]) for t in only["totals"]} == {
        "respond": (1, 2, 33.3), "resolve": (3, 0, 100.0)}
    lines = csv_text.strip().splitlines()
    assert lines[0] == "month,service,priority,clock,records,met,breached,open,compliance_percent"
    assert "2026-03,mail,P3,resolve,1,0,1,0,0.0" in lines and "2026-03,vpn,P2,resolve,1,0,0,1," in lines
    assert len(lines) == 7  # March only: six rows
    assert bad_month.status_code == 400 and "from" in bad_month.json["error"]["details"]["fields"]
    assert backwards.status_code == 400 and bad_format.status_code == 400
    assert requester.status_code == 403
