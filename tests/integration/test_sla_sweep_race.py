"""Two workers sweeping the same breached record at the same moment record its breach once (SQLite and
PostgreSQL): the loser's commit fails on the event's unique mark and its next round finds it in the trail."""

from __future__ import annotations

import threading
from datetime import timedelta

import time_machine

from engine.db.database import Database
from engine.services import instances, sla_sweep
from tests.conftest import ALICE, IVAN
from tests.processes.response_support import RECORD, T0
from tests.support import deploy_process, do, events


def test_two_workers_record_a_breach_once(db: Database) -> None:
    deploy_process(db, "response")
    with time_machine.travel(T0, tick=False) as t:
        key = instances.start(db, IVAN, "response", {"query_type": "incident"}).business_key
        do(db, ALICE, key, "record", {**RECORD, "query_type": "incident", "impact": "high", "urgency": "high"})
        t.shift(timedelta(hours=1))  # P1: respond within 15 minutes, long gone
        go = threading.Barrier(2)

        def worker() -> None:
            go.wait()
            try:
                sla_sweep.sweep(db)
            except Exception:  # noqa: BLE001 - the loser's failed commit is the point of the test
                pass

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=60)
        sla_sweep._next_check.pop(db, None)  # a restarted worker: it looks at every record again
        sla_sweep.sweep(db)
    breaches = [e for e in events(db, key, "sla.breached")]
    assert [e["data"]["clock"] for e in breaches] == ["respond"]
