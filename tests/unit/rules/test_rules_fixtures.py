"""Hand-written DMN files in Camunda Modeler form: they parse and decide what the business expects."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engine.rules import DmnModel, Evaluation, load_table_tests, parse_dmn, run_table_tests

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load(name: str) -> DmnModel:
    return parse_dmn((FIXTURES / name).read_bytes())


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.dmn")))
def test_every_fixture_parses(name: str) -> None:
    model = load(name)
    assert model.decisions


def test_fixtures_are_in_camunda_modeler_form() -> None:
    for path in FIXTURES.glob("*.dmn"):
        text = path.read_text()
        assert 'exporter="Camunda Modeler"' in text, path.name
    modern = (FIXTURES / "priority.dmn").read_text()
    assert 'xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"' in modern
    assert "<dmndi:DMNDI>" in modern and 'xmlns:dc="' in modern


# ---------------------------------------------------------------------------------------------- priority

PRIORITY_MATRIX = {
    ("high", "high"): "P1",
    ("high", "medium"): "P2",
    ("high", "low"): "P3",
    ("medium", "high"): "P2",
    ("medium", "medium"): "P3",
    ("medium", "low"): "P4",
    ("low", "high"): "P3",
    ("low", "medium"): "P4",
    ("low", "low"): "P4",
}


@pytest.mark.parametrize(("impact", "urgency"), sorted(PRIORITY_MATRIX))
def test_priority_matrix(impact: str, urgency: str) -> None:
    result = load("priority.dmn").evaluate("priority", {"impact": impact, "urgency": urgency})
    assert result.outputs == {"priority": PRIORITY_MATRIX[(impact, urgency)]}
    assert len(result.matched) == 1


def test_priority_decision_metadata() -> None:
    decision = load("priority.dmn").decisions["priority"]
    assert decision.name == "Ticket priority"
    assert decision.hit_policy == "UNIQUE"
    assert decision.outputs[0].allowed_values == ("P1", "P2", "P3", "P4")
    assert len(decision.rules) == 8


def test_priority_explanation_and_evidence() -> None:
    result = load("priority.dmn").evaluate("priority", {"impact": "high", "urgency": "high"}, version=2)
    assert result.explain() == (
        'priority = "P1" because rule r1 of priority v2 matched Impact="high", Urgency="high" '
        "[Widespread outage that cannot wait]"
    )
    evidence = result.to_dict()
    assert json.loads(json.dumps(evidence)) == evidence
    assert evidence["matched"] == ["r1"] and evidence["version"] == 2
    assert evidence["annotations"] == ["Widespread outage that cannot wait"]
    assert evidence["inputs"] == {"Impact": "high", "Urgency": "high"}


def test_priority_no_match_explanation() -> None:
    result = load("priority.dmn").evaluate("priority", {"impact": "huge"})
    assert result.outputs == {"priority": None}
    assert result.explain() == 'no rule of priority matched Impact="huge", Urgency=null, so priority = null'


def test_priority_shipped_table_tests_pass() -> None:
    model = load("priority.dmn")
    cases = load_table_tests((FIXTURES / "priority.tests.json").read_text())
    assert len(cases) == 5
    assert run_table_tests(model, cases) == []


# ------------------------------------------------------------------------------------- decision rights


def rights(**data: object) -> Evaluation:
    base: dict[str, object] = {
        "change_class": "normal",
        "estimated_hours": 8,
        "users_affected": 500,
        "critical_service": False,
    }
    return load("decision_rights.dmn").evaluate("change_approver", {**base, **data})


@pytest.mark.parametrize(
    ("data", "approver", "required", "rule"),
    [
        ({"change_class": "standard"}, "implementing_team", False, "standard_change"),
        (
            {"change_class": "standard", "critical_service": True},
            "implementing_team",
            False,
            "standard_change",
        ),
        ({"critical_service": True}, "executive_sponsor", True, "critical_service"),
        (
            {"critical_service": True, "estimated_hours": 1, "users_affected": 2},
            "executive_sponsor",
            True,
            "critical_service",
        ),
        ({"estimated_hours": 3.5, "users_affected": 49}, "it_manager", True, "small_change"),
        ({"estimated_hours": 4, "users_affected": 10}, "cab", True, "otherwise_cab"),
        ({"estimated_hours": 2, "users_affected": 50}, "cab", True, "otherwise_cab"),
        ({"change_class": "emergency"}, "cab", True, "otherwise_cab"),
        ({"estimated_hours": None, "users_affected": None}, "cab", True, "otherwise_cab"),
    ],
)
def test_decision_rights(data: dict, approver: str, required: bool, rule: str) -> None:
    result = rights(**data)
    assert result.outputs == {"approver": approver, "approval_required": required}
    assert result.matched == [rule]
    assert result.hit_policy == "FIRST"


def test_decision_rights_explanation_shows_the_tests_that_mattered() -> None:
    text = rights(estimated_hours=2, users_affected=10).explain()
    assert text.startswith(
        'approver = "it_manager", approval_required = true because rule small_change of '
        "change_approver matched Estimated hours=2.0 (< 4), Users affected=10 (< 50)"
    )
    assert "delegated to the IT manager" in text
    assert "(it applies to any input)" in rights().explain()


# ---------------------------------------------------------------------------------------------- chaining


TICKET = {
    "service": {"critical": False},
    "users_affected": 40,
    "sla_remaining": "PT2H",
    "opened": "2026-03-01T09:00:00Z",
}


def test_required_decisions_are_evaluated_first() -> None:
    model = load("ticket_routing.dmn")
    assert model.decisions["routing"].required == ["decide_impact", "decide_urgency"]
    result = model.evaluate("routing", {"ticket": TICKET}, version=7)
    assert [r.decision_id for r in result.required] == ["decide_impact", "decide_urgency"]
    assert result.required[0].outputs == {"impact": "medium"}
    assert result.required[1].outputs == {"urgency": "high"}
    assert all(r.version == 7 for r in result.required)
    # impact came in under its output name, urgency via the required decision's id as a dict
    assert result.inputs == {"impact": "medium", "urgency": "high"}
    assert result.outputs == {"priority": "P2", "respond_by": datetime(2026, 3, 1, 13, 0, tzinfo=UTC)}
    assert result.matched == ["rte_p2"]


@pytest.mark.parametrize(
    ("ticket", "priority", "respond_by"),
    [
        ({"service": {"critical": True}}, "P1", "2026-03-01T10:00:00+00:00"),
        ({"users_affected": 150, "sla_remaining": "P2D"}, "P3", "2026-03-02T21:00:00+00:00"),
        ({"users_affected": 3, "sla_remaining": "PT1H"}, "P3", "2026-03-02T21:00:00+00:00"),
        ({"users_affected": 10, "sla_remaining": "PT10H"}, "P2", "2026-03-01T13:00:00+00:00"),
    ],
)
def test_routing_cases(ticket: dict, priority: str, respond_by: str) -> None:
    result = load("ticket_routing.dmn").evaluate("routing", {"ticket": {**TICKET, **ticket}})
    assert result.to_dict()["outputs"] == {"priority": priority, "respond_by": respond_by}


def test_chained_evidence_and_explanation() -> None:
    result = load("ticket_routing.dmn").evaluate("routing", {"ticket": TICKET}, version=3)
    lines = result.explain().splitlines()
    assert lines[0].startswith(
        'priority = "P2", respond_by = date and time("2026-03-01T13:00:00+00:00") '
        "because rule rte_p2 of routing v3 matched"
    )
    assert lines[1].startswith('  given impact = "medium" because rule imp_some of decide_impact v3 matched')
    assert lines[2] == (
        '  given urgency = "high" because rule urg_breaching of decide_urgency v3 matched '
        'Time left on SLA=duration("PT2H") (< duration("PT4H"))'
    )
    evidence = result.to_dict()
    assert json.loads(json.dumps(evidence)) == evidence
    assert evidence["required"][1]["inputs"] == {"Time left on SLA": "PT2H"}


def test_required_decision_can_be_evaluated_alone() -> None:
    result = load("ticket_routing.dmn").evaluate("decide_urgency", {"ticket": {"sla_remaining": "PT5H"}})
    assert result.outputs == {"urgency": "medium"} and result.required == []


# ---------------------------------------------------------------------------------------------- DMN 1.1


def test_dmn11_collect_sum_with_arithmetic_and_dates() -> None:
    model = load("change_risk_dmn11.dmn")
    assert model.dmn_version == "1.1"
    points = model.decisions["risk_points"]
    assert (points.hit_policy, points.aggregation) == ("COLLECT", "SUM")
    data = {
        "risk_likelihood": 3,
        "risk_impact": 4,
        "planned_start": "2026-12-20T22:00:00Z",
        "backout_tested": False,
    }
    result = model.evaluate("risk_points", data)
    assert result.inputs == {"Risk score": 12, "Planned start": date(2026, 12, 20), "Backout tested": False}
    assert result.matched == ["rp_score_mid", "rp_freeze", "rp_no_backout", "rp_base"]
    assert result.outputs == {"points": 80}


def test_dmn11_requirement_chain() -> None:
    model = load("change_risk_dmn11.dmn")
    low = {"risk_likelihood": 1, "risk_impact": 2, "planned_start": "2026-06-01", "backout_tested": True}
    assert model.evaluate("risk_class", low).outputs == {"risk_class": "low"}
    medium = {**low, "risk_likelihood": 3, "backout_tested": False}  # 20 + 25 + 5
    assert model.evaluate("risk_class", medium).outputs == {"risk_class": "medium"}
    high = {**medium, "risk_impact": 5}  # 50 + 25 + 5
    result = model.evaluate("risk_class", high)
    assert result.outputs == {"risk_class": "high"}
    assert result.required[0].outputs == {"points": 80}
