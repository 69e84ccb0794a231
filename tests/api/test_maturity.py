"""Maturity from evidence through the API: the seeded evidence of tests/maturity_support.py gives the response
practice level 5; injected conformance deviations bring it down to level 2; the export carries the evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import time_machine

from tests.api.conftest import Api
from tests.maturity_support import seed

NOW = datetime(2026, 4, 1, 12, tzinfo=UTC)
MARCH = "/governance/maturity?from=2026-03-01&to=2026-03-31"


def practices(api: Api, user: str = "grace") -> dict[str, dict[str, Any]]:
    with time_machine.travel(NOW, tick=False):
        answer = api.get(MARCH, user)
    assert answer.status_code == 200, answer.json
    return {p["practice"]: p for p in answer.json["practices"]}


def evidence(practice: dict[str, Any], level: int) -> dict[str, Any]:
    return next(lv for lv in practice["levels"] if lv["level"] == level)["evidence"]


def test_seeded_evidence_gives_the_expected_levels(api: Api) -> None:
    keys = seed(api.db)
    found = practices(api)
    response = found["response"]
    assert (response["level"], response["level_name"]) == (5, "Optimising")
    assert evidence(response, 2)["records"] == keys["response"]
    assert (evidence(response, 3)["records_closed"], evidence(response, 3)["conformance_rate"]) == (3, 1.0)
    measured = evidence(response, 4)
    assert (measured["clocks_judged"], measured["met"], measured["compliance_percent"]) == (6, 6, 100.0)
    assert [r["business_key"] for r in measured["review_records"]] == keys["improvement"]
    assert evidence(response, 5)["records"] == keys["improvement"]
    # the improvement practice is followed but declares no targets or measures: Defined, not Managed
    improvement = found["improvement"]
    assert improvement["level"] == 3
    assert [lv["met"] for lv in improvement["levels"]] == [True, True, True, False, False]


def test_injected_conformance_deviations_lower_the_level(api: Api) -> None:
    keys = seed(api.db, deviations=1)
    response = practices(api)["response"]
    assert (response["level"], response["level_name"]) == (2, "Repeatable")
    followed = evidence(response, 3)
    assert (followed["conforming"], followed["deviating"], followed["conformance_rate"]) == (2, 1, 0.667)
    assert followed["deviating_records"] == [{"business_key": keys["response"][0], "rules": ["data_edited"]}]
    # measured and reviewed still hold, but a level needs every level below it
    assert [lv["met"] for lv in response["levels"]] == [True, True, False, True, True]


def test_export_access_and_bad_input(api: Api) -> None:
    seed(api.db)
    with time_machine.travel(NOW, tick=False):
        csv_text = api.get(MARCH + "&format=csv", "heidi").get_data(as_text=True)
        desk = api.get(MARCH, "alice")
        bad_date = api.get("/governance/maturity?from=2026-02-30", "grace")
        backwards = api.get("/governance/maturity?from=2026-03-31&to=2026-03-01", "grace")
        bad_format = api.get(MARCH + "&format=pdf", "grace")
    lines = csv_text.strip().splitlines()
    assert lines[0] == "practice,level,level_name,criterion_level,criterion,met,evidence"
    assert any(line.startswith("response,5,Optimising,3,") for line in lines)
    assert desk.status_code == 403
    assert bad_date.status_code == 400 and bad_date.json["error"]["details"]["fields"] == {"from": "must be a date"}
    assert backwards.status_code == 400 and bad_format.status_code == 400
