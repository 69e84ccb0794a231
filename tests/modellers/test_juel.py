"""Camunda's ${...} expressions in the safe JUEL subset: conditions, conditional events, multi-instance
cardinality and timers deploy and run through the HTTP API; anything outside the subset is refused at deploy
with the element and the expression named."""

from __future__ import annotations

import pytest

from engine.spiff import juel
from tests.api.conftest import Api
from tests.modellers.conftest import deployed, refused


def _approve(api: Api, data: dict, approved: bool) -> dict:
    inst = api.post("/instances", "alice", json={"process": "c7_invoice", "data": data}).json
    task = inst["tasks"][0]
    api.post(f"/tasks/{task['id']}/claim", "carol")
    done = api.post(f"/tasks/{task['id']}/complete", "carol", json={"data": {"approved": approved}})
    assert done.status_code == 200, done.json
    return api.get(f"/instances/{inst['id']}/path", "heidi").json | {"id": inst["id"]}


def test_invoice_conditions_conditional_event_and_cardinality_run(api: Api) -> None:
    deployed(api, "c7_invoice", "camunda7_invoice_juel.bpmn")
    data = {"invoice": {"total": "250", "creditor": "ACME"}, "transfers": 2}
    path = _approve(api, data, True)
    assert "paid" in path["completed"] and path["completed"].count("prepare_bank") >= 1
    assert "yes" in path["flows"]
    inst = api.get(f"/instances/{path['id']}", "heidi").json
    assert inst["status"] == "completed" and inst["data"].get("prepared") is True
    path = _approve(api, data, False)
    assert "rejected" in path["completed"] and "no" in path["flows"]
    events = api.get(f"/instances/{path['id']}/audit", "heidi").json["events"]
    taken = [e["data"] for e in events if e["type"] == "gateway.taken"]
    assert taken == [{"flow": "no", "condition": "${!approved}", "inputs": {"approved": False}, "default": False}]


def test_expressions_outside_the_subset_are_refused_naming_element_and_expression(api: Api) -> None:
    problems = refused(api, "c7_juel_bad", "refuse_juel_outside_subset.bpmn")
    by_id = {p["element_id"]: p for p in problems}
    assert set(by_id) == {"archive", "copies"}
    assert "${invoiceService.needsArchive(invoice)}" in by_id["archive"]["message"]
    assert "method or function calls" in by_id["archive"]["message"] and by_id["archive"]["line"] == 14
    assert "${count + 1}" in by_id["copies"]["message"] and "'+' at column" in by_id["copies"]["message"]


@pytest.mark.parametrize(("expression", "data", "expected"), [
    ("${approved}", {"approved": True}, True),
    ("${!approved}", {"approved": True}, False),
    ("${not approved}", {"approved": False}, True),
    ("${amount > 1000 && category == 'travel'}", {"amount": 1200, "category": "travel"}, True),
    ("${amount gt 1000 and category eq \"travel\"}", {"amount": 999, "category": "travel"}, False),
    ("${a lt b || a ge 10}", {"a": 3, "b": 2}, False),
    ("${a le 3 or false}", {"a": 3}, True),
    ("${x ne null}", {"x": None}, False),
    ("${empty comment}", {"comment": ""}, True),
    ("${empty items}", {"items": [1]}, False),
    ("${invoice.total >= 100}", {"invoice": {"total": "250"}}, True),
    ("${order.lines[0].qty == 2}", {"order": {"lines": [{"qty": 2}]}}, True),
    ("${(a == 1 || b == 1) && !(c == 1)}", {"a": 0, "b": 1, "c": 0}, True),
    ("${3.5}", {}, 3.5),
    ("${'it\\'s'}", {}, "it's"),
    ("${respond_target}", {"respond_target": "PT4H"}, "PT4H"),
])
def test_subset_semantics(expression: str, data: dict, expected: object) -> None:
    assert juel.evaluate(expression, data) == expected


@pytest.mark.parametrize("expression", [
    "${bean.method()}", "${a + 1}", "${a ? b : c}", "${x div 2}", "${}", "${a} and ${b}", "${a ==}", "${(a}",
    "${execution.getVariable('x')}", "${a.}",
])
def test_outside_the_subset_is_refused_when_parsed(expression: str) -> None:
    with pytest.raises(juel.JuelError):
        juel.parse(expression)


def test_unknown_variable_is_an_error_not_false() -> None:
    with pytest.raises(juel.JuelError, match="unknown variable 'missing'"):
        juel.evaluate("${missing == 1}", {})
