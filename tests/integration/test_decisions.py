"""Business rule tasks evaluate the table version in force when they run, with evidence in the audit."""

from __future__ import annotations

import json

from engine.db.database import Database, unit_of_work
from engine.services import audit, deploy, instances
from engine.services.bundles import dmn_file
from tests.bpmn_snippets import chain, user_task
from tests.conftest import ALICE, IVAN
from tests.support import OWNER, PROCESSES, deploy_xml, do, instance

RULE_TASK = '<bpmn:businessRuleTask id="n{n}" name="Prioritise" camunda:decisionRef="priority"/>'


def _decisions(db: Database, key: str) -> list[dict]:
    with unit_of_work(db) as uow:
        inst = instances.find(uow, OWNER, key)
        return [json.loads(e.data_json) for e in audit.instance_events(uow, inst.id)
                if e.type == "decision.evaluated"]


def test_new_table_version_applies_to_the_next_evaluation_in_a_running_instance(db: Database) -> None:
    table = dmn_file(PROCESSES / "response" / "priority.dmn")
    deploy.deploy_decisions(db, table, OWNER)
    deploy_xml(db, chain("p", [RULE_TASK.format(n=0), user_task(1), RULE_TASK.format(n=2), user_task(3)]))
    key = instances.start(db, IVAN, "p", {"impact": "high", "urgency": "high"}).business_key
    assert instance(db, key)["data"]["priority"] == "P1"
    # The organisation decides high/high is P2 from now on, while the record is open.
    table.xml = table.xml.replace(b'<outputEntry id="priority_r1_priority"><text>"P1"</text>',
                                  b'<outputEntry id="priority_r1_priority"><text>"P2"</text>')
    table.tests = table.tests.replace('"priority": "P1"', '"priority": "P2"', 1) if table.tests else None
    assert deploy.deploy_decisions(db, table, OWNER)["version"] is None  # no key given: all decisions in file
    do(db, ALICE, key, "n1")
    assert instance(db, key)["data"]["priority"] == "P2"
    first, second = _decisions(db, key)
    assert (first["version"], second["version"]) == (1, 2)
    assert first["evaluation"]["matched"] == second["evaluation"]["matched"] == ["priority_r1"]
    assert "priority_r1" in second["evaluation"]["explanation"] and "v2" in second["evaluation"]["explanation"]


def test_no_match_gives_nulls_and_says_so(db: Database) -> None:
    deploy.deploy_decisions(db, dmn_file(PROCESSES / "response" / "priority.dmn"), OWNER)
    deploy_xml(db, chain("p", [RULE_TASK.format(n=0), user_task(1)]))
    key = instances.start(db, IVAN, "p", {"impact": "cosmic", "urgency": "high"}).business_key
    assert instance(db, key)["data"]["priority"] is None
    evidence = _decisions(db, key)[0]["evaluation"]
    assert evidence["matched"] == [] and "no rule" in evidence["explanation"]
