"""Deploying: versions, validation before anything is stored, hostile XML refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.db.database import Database, unit_of_work
from engine.db.models import AuditEvent, DecisionVersion, ProcessVersion
from engine.errors import DeploymentRefused, NotAllowed
from engine.services import deploy, instances
from engine.services.decisions import DmnFile
from engine.services.deploy import Bundle
from tests.bpmn_snippets import chain, field, script_task, user_task
from tests.conftest import ALICE, IVAN
from tests.support import OWNER, PROCESSES, deploy_process, deploy_xml, task_for


def _stored(db: Database) -> tuple[int, int, int]:
    with unit_of_work(db) as uow:
        s = uow.session
        return (s.execute(select(func.count()).select_from(ProcessVersion)).scalar_one(),
                s.execute(select(func.count()).select_from(DecisionVersion)).scalar_one(),
                s.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def _refused(db: Database, xml: str | bytes, dmn: list[DmnFile] | None = None) -> list[dict]:
    before = _stored(db)
    raw = xml.encode() if isinstance(xml, str) else xml
    with pytest.raises(DeploymentRefused) as info:
        deploy.deploy(db, Bundle(raw, "upload.bpmn", dmn or []), OWNER)
    assert _stored(db) == before, "a refused deployment stored something"
    return info.value.details["problems"]


def test_versions_are_immutable_and_instances_keep_theirs(db: Database) -> None:
    v1 = deploy_xml(db, chain("p", [user_task(0, name="First")]))
    inst1 = instances.start(db, IVAN, "p", {})
    v2 = deploy_xml(db, chain("p", [user_task(0, name="First"), user_task(1, name="Second")]))
    assert (v1.version, v2.version) == (1, 2)
    inst2 = instances.start(db, IVAN, "p", {})
    assert (inst1.version, inst2.version) == (1, 2)
    from tests.support import do

    done = do(db, ALICE, inst1.business_key, "n0")
    assert done["instance"]["status"] == "completed"  # v1 has one task only
    assert task_for(db, inst2.business_key, "n0")["name"] == "First"


def test_unchanged_bundle_is_not_a_new_version(db: Database) -> None:
    assert deploy_process(db, "response").version == 1
    again = deploy_process(db, "response")
    assert (again.version, again.unchanged) == (1, True)


def test_only_process_owners_deploy(db: Database) -> None:
    with pytest.raises(NotAllowed):
        deploy.deploy(db, Bundle(chain("p", [user_task(0)]).encode()), ALICE)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s" name="&lol3;"/></bpmn:process></bpmn:definitions>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s" name="&xxe;"/></bpmn:process></bpmn:definitions>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "external-entity"])
def test_hostile_xml_is_refused(db: Database, payload: bytes) -> None:
    problems = _refused(db, payload)
    assert "DOCTYPE" in problems[0]["message"]


def test_malformed_and_oversized_xml_are_refused(db: Database) -> None:
    assert "not well-formed" in _refused(db, "<bpmn:definitions")[0]["message"]
    huge = chain("p", [user_task(0)]).replace("</bpmn:definitions>", "<!--" + "x" * (3 * 1024 * 1024) + "-->"
                                              "</bpmn:definitions>")
    assert "limit" in _refused(db, huge)[0]["message"]


def test_every_problem_is_listed_with_its_element(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # An organisation that configures no default role refuses tasks and lanes nobody is named for.
    monkeypatch.setenv("ITSMFLOW_DEFAULT_TASK_ROLE", "none")
    bad_form = user_task(0, fields=field("when", "money") + field("kind", "enum"))
    lanes = ('<bpmn:laneSet id="ls"><bpmn:lane id="l1" name="Night shift"><bpmn:flowNodeRef>n1</bpmn:flowNodeRef>'
             '</bpmn:lane></bpmn:laneSet>')
    nodes = [bad_form, '<bpmn:userTask id="n1" name="Orphan"/>',
             '<bpmn:businessRuleTask id="n2" camunda:decisionRef="nowhere"/>', script_task(3, "import os")]
    problems = _refused(db, chain("p", nodes, lanes=lanes))
    by_element = {(p["element_id"], p["message"].split(" ")[0]) for p in problems}
    messages = " | ".join(p["message"] for p in problems)
    assert ("n0", "form") in by_element and "unsupported type 'money'" in messages
    assert "enum form field 'kind' has no values" in messages
    assert "lane 'Night shift' does not map to a role" in messages
    assert any(p["element_id"] == "n1" and "nobody can do it" in p["message"] for p in problems)
    assert any(p["element_id"] == "n2" and "nowhere" in p["message"] for p in problems)
    assert any(p["element_id"] == "n3" and "script" in p["message"] for p in problems)


def test_bad_condition_and_timer_are_deploy_time_problems(db: Database) -> None:
    xml = chain("p", [user_task(0)]).replace(
        '<bpmn:sequenceFlow id="f1" sourceRef="n0" targetRef="end"/>',
        '<bpmn:sequenceFlow id="f1" sourceRef="n0" targetRef="end"><bpmn:conditionExpression>x.__class__'
        '</bpmn:conditionExpression></bpmn:sequenceFlow>'
        '<bpmn:boundaryEvent id="t" attachedToRef="n0"><bpmn:timerEventDefinition><bpmn:timeDuration>in four hours'
        '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>')
    problems = _refused(db, xml)
    assert {p["element_id"] for p in problems} >= {"f1", "t"}


def test_camunda_style_timer_definitions_deploy(db: Database) -> None:
    for expr in ("PT4H", "R3/PT10M", "2026-12-01T09:00:00Z", "${respond_target}"):
        kind = "timeCycle" if expr.startswith("R") else "timeDate" if expr.startswith("2026") else "timeDuration"
        xml = chain("p", [user_task(0)], extra=(
            f'<bpmn:boundaryEvent id="t" attachedToRef="n0" cancelActivity="false"><bpmn:timerEventDefinition>'
            f'<bpmn:{kind}>{expr}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:boundaryEvent>'))
        deploy_xml(db, xml)


def test_bundle_with_failing_table_tests_is_refused(db: Database) -> None:
    folder = PROCESSES / "response"
    wrong = ('[{"decision": "priority", "inputs": {"impact": "high", "urgency": "high"},'
             ' "expected": {"priority": "P4"}}]')
    dmn = DmnFile("priority.dmn", (folder / "priority.dmn").read_bytes(), wrong)
    problems = _refused(db, (folder / "response.bpmn").read_bytes(), [dmn])
    assert any("P4" in p["message"] for p in problems)


def test_deployment_is_audited_with_a_diff(db: Database) -> None:
    deploy_xml(db, chain("p", [user_task(0)]))
    deploy_xml(db, chain("p", [user_task(0), user_task(1)]))
    with unit_of_work(db) as uow:
        rows = list(uow.session.execute(select(AuditEvent).where(AuditEvent.type == "process.deployed")
                                        .order_by(AuditEvent.seq)).scalars())
    import json

    diff = json.loads(rows[-1].data_json)["diff"]
    assert diff["added"] == ["n1"] and rows[-1].actor == "grace"
