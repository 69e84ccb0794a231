"""Scenarios of processes/response (first working version; the full model replaces it)."""

from __future__ import annotations

from engine.db.database import Database
from engine.services import instances
from tests.conftest import ALICE, BOB, IVAN
from tests.support import deploy_process, do, instance


def test_incident_restored_after_one_rework(scenario_db: Database) -> None:
    db = scenario_db
    deploy_process(db, "response")
    inst = instances.start(db, IVAN, "response", {})
    key = inst.business_key
    do(db, ALICE, key, "record", {"summary": "Printer down", "service": "print", "query_type": "incident",
                                  "impact": "high", "urgency": "medium"})
    assert instance(db, key)["data"]["priority"] == "P2"
    do(db, BOB, key, "restore", {"resolution": "rebooted"})
    do(db, IVAN, key, "confirm", {"user_confirmed": False})
    do(db, BOB, key, "restore", {"resolution": "replaced toner"})
    do(db, IVAN, key, "confirm", {"user_confirmed": True})
    result = do(db, ALICE, key, "close", {"closure_note": "done"})
    assert result["instance"]["status"] == "completed"
