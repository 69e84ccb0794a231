"""Seeding maturity evidence in March 2026 (API and browser tests): three response records handled within their
targets and closed, and an improvement item of the response practice reviewed with its target met. With
`deviations`, an administrator edits the data of that many response records before they close (a conformance
deviation each)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from engine.db.database import Database
from engine.services import admin, instances
from tests.conftest import ADMIN, ALICE, BOB, GRACE, IVAN
from tests.processes.response_support import RECORD, confirm_and_close
from tests.support import deploy_process, do

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def seed(db: Database, deviations: int = 0) -> dict[str, list[str]]:
    deploy_process(db, "improvement")
    keys: dict[str, list[str]] = {"response": [], "improvement": []}
    with time_machine.travel(DAY, tick=False) as t:
        for n in range(3):
            t.move_to(DAY + timedelta(days=n))
            key = instances.start(db, IVAN, "response", {"query_type": "incident"}).business_key
            do(db, ALICE, key, "record", {**RECORD, "query_type": "incident", "impact": "high", "urgency": "medium"})
            t.shift(timedelta(minutes=10))
            do(db, ALICE, key, "restore_first_line", {"resolution": "restarted", "resolved_first_line": True})
            if n < deviations:
                admin.edit_data(db, ADMIN, key, {"resolution": "restarted the relay"}, "typo in the resolution")
            t.shift(timedelta(minutes=10))
            confirm_and_close(db, key, material=False)
            keys["response"].append(key)
        t.move_to(DAY + timedelta(days=10))
        item = instances.start(db, GRACE, "improvement", {"practice": "response"}).business_key
        do(db, GRACE, item, "identify", {"opportunity": "Mail outages recur on Mondays", "source": "metrics"})
        do(db, GRACE, item, "understand", {"baseline": "3 mail incidents in two weeks"})
        do(db, GRACE, item, "set_objectives", {"objective": "No Monday outage", "metric": "mail incidents",
                                               "target": "none in four weeks"})
        do(db, GRACE, item, "plan_improvement", {"plan": "move the weekly restart to Sunday"})
        do(db, BOB, item, "implement", {"implementation_note": "restart moved"})
        do(db, ALICE, item, "monitor", {"result": "no outage in four weeks"})
        do(db, GRACE, item, "review", {"target_met": True, "review_note": "target met"})
        do(db, GRACE, item, "close", {"closure_note": "closed"})
        keys["improvement"].append(item)
    return keys
