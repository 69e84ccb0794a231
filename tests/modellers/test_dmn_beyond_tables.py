"""DMN beyond decision tables: a literal-expression decision that requires a decision table (a DRD chain),
checked against cases in the DMN TCK's shape, and run from a business rule task through the HTTP API."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from lxml import etree

from engine.rules import parse_dmn
from tests.api.conftest import Api
from tests.bpmn_snippets import chain
from tests.modellers.conftest import FIXTURES

TCK = "{http://www.omg.org/spec/DMN/20160719/testcase}"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


def _value(node: Any) -> Any:
    value = node.find(f"{TCK}value")
    if value is None or value.get(XSI_NIL) == "true":
        return None
    return Decimal(value.text.strip())


def _cases() -> list[tuple[str, dict[str, Any], str, Any]]:
    root = etree.parse(str(FIXTURES / "risk_drd.tck.xml")).getroot()
    cases = []
    for case in root.iter(f"{TCK}testCase"):
        inputs = {n.get("name"): _value(n) for n in case.iter(f"{TCK}inputNode")}
        for result in case.iter(f"{TCK}resultNode"):
            cases.append((case.get("id"), inputs, result.get("name"), _value(result.find(f"{TCK}expected"))))
    return cases


def test_literal_expression_chained_to_a_table_passes_the_tck_shaped_cases() -> None:
    model = parse_dmn((FIXTURES / "risk_drd.dmn").read_bytes())
    cases = _cases()
    assert len(cases) == 3
    for case_id, inputs, decision, expected in cases:
        result = model.evaluate(decision, inputs)
        actual = result.outputs["risk_score"]
        assert (None if actual is None else Decimal(str(actual))) == expected, case_id
        assert [r.decision_id for r in result.required] == ["risk_table"]


def test_business_rule_task_runs_the_drd_over_http(api: Api) -> None:
    bpmn = chain("risk_check", ['<bpmn:businessRuleTask id="n0" camunda:decisionRef="total_risk"/>',
                                '<bpmn:userTask id="n1" camunda:candidateGroups="resolver"/>']).encode()
    form = {"bpmn": (io.BytesIO(bpmn), "risk_check.bpmn"),
            "dmn": (io.BytesIO((FIXTURES / "risk_drd.dmn").read_bytes()), "risk_drd.dmn")}
    resp = api.post("/processes/risk_check/versions", "grace", data=form, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.json
    assert set(resp.json["decisions"]) == {"total_risk", "risk_table"}
    inst = api.post("/instances", "alice", json={"process": "risk_check", "data": {"age": 22, "extra": 2}}).json
    assert inst["data"]["risk_score"] == 8  # the required table ran first: base_risk 3 for age 22
    events = api.get(f"/instances/{inst['id']}/audit", "heidi").json["events"]
    evaluated = [e for e in events if e["type"] == "decision.evaluated"]
    assert evaluated and evaluated[0]["element_id"] == "n0"


def test_feel_names_with_spaces_across_a_drd() -> None:
    model = parse_dmn((FIXTURES / "names_with_spaces.dmn").read_bytes())
    # TCK shape: inputNode "Applicant Age", resultNode "Risk Message"
    for age, expected in ((Decimal(20), "risk is high"), (Decimal(40), "risk is low")):
        result = model.evaluate("message", {"Applicant Age": age})
        assert result.outputs == {"Risk Message": expected}
    assert model.evaluate("category", {"Applicant Age": Decimal(30)}).outputs == {"Risk Category": "low"}
