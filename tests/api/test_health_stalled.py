"""/health tells when due timers are not being fired (no worker, or all stuck)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from engine.services import instances, timers
from tests.api.conftest import Api
from tests.bpmn_snippets import chain
from tests.conftest import IVAN
from tests.support import deploy_xml

TIMER = ('<bpmn:intermediateCatchEvent id="n0"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1M'
         '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')


def test_health_reports_stalled_due_timers(api: Api) -> None:
    deploy_xml(api.db, chain("waits", [TIMER, '<bpmn:userTask id="n1" camunda:candidateGroups="service_desk"/>']))
    instances.start(api.db, IVAN, "waits", {})
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2), tick=False):
        body = api.get("/health").json
        assert body["status"] == "ok" and body["due_timers"] == 1 and body["stalled_timers"] == 0  # just due
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=10), tick=False):
        body = api.get("/health").json
        assert body["status"] == "stalled" and body["stalled_timers"] == 1 and body["oldest_stalled_due_at"]
        timers.run_worker(api.db, once=True)
        body = api.get("/health").json
        assert body["status"] == "ok" and body["stalled_timers"] == 0
