"""Parsing: namespaces, safety against hostile XML, and reporting every problem with its location."""

from __future__ import annotations

import pytest

from engine.rules import MAX_BYTES, DmnModel, DmnParseError, Problem, parse_dmn

from .dmn_builder import NS_11, NS_12, NS_13, In, Out, R, Table, dmn

SIMPLE = Table("d", [In("x")], [Out("y")], [R(['"a"'], ['"b"'])])


def problems_of(xml: bytes | str) -> list[Problem]:
    with pytest.raises(DmnParseError) as info:
        parse_dmn(xml)  # type: ignore[arg-type]
    assert info.value.problems, "DmnParseError without problems"
    return info.value.problems


@pytest.mark.parametrize(("ns", "version"), [(NS_11, "1.1"), (NS_12, "1.2"), (NS_13, "1.3")])
def test_all_dmn_namespaces(ns: str, version: str) -> None:
    model = parse_dmn(dmn(SIMPLE, ns=ns))
    assert isinstance(model, DmnModel)
    assert model.dmn_version == version
    assert model.evaluate("d", {"x": "a"}).outputs == {"y": "b"}


def test_accepts_text_as_well_as_bytes() -> None:
    assert parse_dmn(dmn(SIMPLE).decode()).decisions["d"].name == "d"  # type: ignore[arg-type]


def test_decisions_in_document_order_with_public_attributes() -> None:
    xml = dmn(
        Table("b", [In("x")], [Out("y")], [], name="Bee"),
        SIMPLE,
        Table("a", [In("d.y", label="from d")], [Out("z")], [], required=["d"]),
    )
    model = parse_dmn(xml)
    assert list(model.decisions) == ["b", "d", "a"]
    a = model.decisions["a"]
    assert (a.id, a.name, a.hit_policy, a.aggregation, a.required) == ("a", "a", "UNIQUE", None, ["d"])
    assert [i.key for i in a.inputs] == ["from d"] and [o.name for o in a.outputs] == ["z"]
    assert model.decisions["b"].name == "Bee"
    assert model.decisions["d"].rules[0].id == "r1"
    assert model.decisions["d"].rules[0].input_entries == ('"a"',)


def test_dmndi_and_camunda_extensions_are_ignored() -> None:
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{NS_13}" xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/"
  xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" xmlns:camunda="http://camunda.org/schema/1.0/dmn"
  xmlns:biodi="http://bpmn.io/schema/dmn/biodi/2.0" id="defs" name="DRD" namespace="http://camunda.org/schema/1.0/dmn"
  exporter="Camunda Modeler" exporterVersion="5.31.0">
  <!-- a comment -->
  <inputData id="InputData_1" name="ticket" />
  <decision id="d" name="D" camunda:historyTimeToLive="180">
    <extensionElements><biodi:bounds x="1" y="2" width="3" height="4" /></extensionElements>
    <informationRequirement id="ir1"><requiredInput href="#InputData_1" /></informationRequirement>
    <decisionTable id="t" camunda:something="x">
      <input id="i" label="X" camunda:inputVariable="v">
        <inputExpression id="ie" typeRef="string"><text>x</text></inputExpression>
      </input>
      <output id="o" name="y" typeRef="string" />
      <rule id="r">
        <inputEntry id="e1"><text>"a"</text></inputEntry>
        <outputEntry id="e2"><text>"b"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI><dmndi:DMNDiagram><dmndi:DMNShape dmnElementRef="d">
    <dc:Bounds height="80" width="180" x="160" y="100" />
  </dmndi:DMNShape></dmndi:DMNDiagram></dmndi:DMNDI>
</definitions>"""
    model = parse_dmn(xml.encode())
    assert model.decisions["d"].required == []
    assert model.evaluate("d", {"x": "a"}).outputs == {"y": "b"}


# ---------------------------------------------------------------------------------------------- hostile XML

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x">
  <decision id="&lol4;" />
</definitions>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x">
  <decision id="d" name="&secret;"><decisionTable><output name="y"/></decisionTable></decision>
</definitions>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE definitions SYSTEM "http://example.invalid/evil.dtd">
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x"/>"""


@pytest.mark.parametrize(
    "xml", [BILLION_LAUGHS, XXE, EXTERNAL_DTD, BILLION_LAUGHS.replace(b"DOCTYPE", b"doctype")]
)
def test_doctype_and_entities_are_refused(xml: bytes) -> None:
    (problem,) = problems_of(xml)
    assert "DOCTYPE" in problem.message
    assert problem.decision_id is None


def _utf16(xml: bytes) -> bytes:
    return (
        xml.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>')
        .decode()
        .encode("utf-16")
    )


def test_doctype_hidden_in_utf16_is_refused() -> None:
    (problem,) = problems_of(_utf16(EXTERNAL_DTD))
    assert "DOCTYPE" in problem.message
    # With an entity in use libxml2 stops first; either way nothing is read or expanded.
    (problem,) = problems_of(_utf16(XXE))
    assert "root:" not in problem.message


def test_oversize_file_is_refused_before_parsing() -> None:
    xml = dmn(SIMPLE)
    padded = xml.replace(b"<definitions", b"<!--" + b" " * MAX_BYTES + b"-->\n<definitions", 1)
    (problem,) = problems_of(padded)
    assert "2 MB" in problem.message


def test_file_just_under_the_limit_parses() -> None:
    xml = dmn(SIMPLE)
    padded = xml.replace(
        b"<definitions", b"<!--" + b" " * (MAX_BYTES - len(xml) - 100) + b"-->\n<definitions", 1
    )
    assert len(padded) <= MAX_BYTES
    assert "d" in parse_dmn(padded).decisions


@pytest.mark.parametrize(
    ("xml", "fragment"),
    [
        (b"<definitions", "not well-formed"),
        (b"", "not well-formed"),
        (b"<html/>", "not a DMN file"),
        (b'<definitions xmlns="http://example.com/other"/>', "not a DMN file"),
        (f'<definitions xmlns="{NS_13}"/>'.encode(), "no decisions"),
    ],
)
def test_not_dmn(xml: bytes, fragment: str) -> None:
    problems = problems_of(xml)
    assert any(fragment in p.message for p in problems)


def test_non_bytes_input_is_a_problem_not_a_crash() -> None:
    (problem,) = problems_of(123)  # type: ignore[arg-type]
    assert "bytes" in problem.message


# ---------------------------------------------------------------------------------------------- problems


def test_all_problems_in_a_file_are_reported_together() -> None:
    bad = Table(
        "priority",
        [In("impact", "impact"), In("urgency", "urgency")],
        [Out("priority")],
        [
            R(['"high"', "foo(1)"], ['"P1"'], id="r1"),
            R(["if x then 1 else 2", '"low"'], ['"P2'], id="r2"),
            R(['"low"'], ['"P3"'], id="r3"),
        ],
    )
    other = Table("other", [In("x y + z")], [Out("o")], [R(["-"], ["1"], id="ok")])
    problems = problems_of(dmn(bad, other))
    located = {(p.decision_id, p.rule_id, p.cell) for p in problems}
    assert located == {
        ("priority", "r1", "input 2 (urgency)"),
        ("priority", "r2", "input 1 (impact)"),
        ("priority", "r2", "output 1 (priority)"),
        ("priority", "r3", None),
        ("other", None, "input 1 (x y + z)"),
    }
    by_cell = {(p.rule_id, p.cell): p.message for p in problems}
    assert by_cell[("r1", "input 2 (urgency)")].startswith('unsupported FEEL "foo(1)"')
    assert "unbalanced quotes" in by_cell[("r2", "output 1 (priority)")]
    assert "1 input entries but the table has 2 inputs" in by_cell[("r3", None)]
    text = str(problems_of(dmn(bad, other))[0])
    assert text.startswith("decision priority, rule r1, input 2 (urgency): ")


def test_error_str_lists_problems() -> None:
    with pytest.raises(DmnParseError) as info:
        parse_dmn(dmn(Table("d", [In("x")], [Out("y")], [R(["foo(1)"], ["1"]), R(["bar(2)"], ["1"])])))
    message = str(info.value)
    assert message.startswith("2 problems in DMN")
    assert "foo(1)" in message and "bar(2)" in message


def test_literal_expression_decision_evaluates_and_bad_ones_are_reported() -> None:
    xml = f"""<definitions xmlns="{NS_13}" id="defs">
  <decision id="greeting" name="Greeting">
    <variable id="v" name="greeting" typeRef="string" />
    <literalExpression id="le"><text>"Hello " + name</text></literalExpression>
  </decision>
</definitions>""".encode()
    assert parse_dmn(xml).evaluate("greeting", {"name": "Ann"}).outputs == {"greeting": "Hello Ann"}
    (problem,) = problems_of(xml.replace(b'"Hello " + name', b'"Hello " +'))
    assert problem.decision_id == "greeting" and problem.cell == "literal expression"


def test_decision_without_logic() -> None:
    (problem,) = problems_of(f'<definitions xmlns="{NS_13}"><decision id="d"/></definitions>'.encode())
    assert problem.message == "decision has no decision table"


def test_missing_and_duplicate_ids() -> None:
    xml = f"""<definitions xmlns="{NS_13}">
  <decision name="anonymous"><decisionTable><output name="y"/></decisionTable></decision>
  {dmn(SIMPLE).decode().split('namespace="http://camunda.org/schema/1.0/dmn">')[1].split("</definitions>")[0]}
  {dmn(SIMPLE).decode().split('namespace="http://camunda.org/schema/1.0/dmn">')[1].split("</definitions>")[0]}
</definitions>""".encode()
    messages = [p.message for p in problems_of(xml)]
    assert "decision 'anonymous' has no id" in messages
    assert "duplicate decision id" in messages


def test_table_without_outputs_and_duplicate_output_names() -> None:
    problems = problems_of(
        dmn(Table("d", [In("x")], [], []), Table("e", [In("x")], [Out("y"), Out("y")], []))
    )
    messages = {(p.decision_id, p.cell, p.message) for p in problems}
    assert ("d", None, "decision table has no outputs") in messages
    assert ("e", "output 2 (y)", 'duplicate output name "y"') in messages


def test_empty_input_expression_is_a_problem() -> None:
    (problem,) = problems_of(dmn(Table("d", [In("", label="Nothing")], [Out("y")], [])))
    assert problem.cell == "input 1 (Nothing)"
    assert "empty" in problem.message


def test_empty_output_entry_is_null() -> None:
    model = parse_dmn(dmn(Table("d", [In("x")], [Out("y"), Out("z")], [R(["-"], ['"set"', ""])])))
    assert model.evaluate("d", {}).outputs == {"y": "set", "z": None}


def test_bad_output_values_list() -> None:
    (problem,) = problems_of(dmn(Table("d", [In("x")], [Out("y", allowed='"a", b')], [])))
    assert problem.cell == "output 1 (y)" and "literals" in problem.message


def test_non_feel_expression_language_is_refused() -> None:
    xml = dmn(SIMPLE).replace(
        b'<inputExpression id="ie_d_1"', b'<inputExpression id="ie_d_1" expressionLanguage="juel"'
    )
    (problem,) = problems_of(xml)
    assert problem.cell == "input 1 (x)" and 'expression language "juel"' in problem.message
    feel = dmn(SIMPLE).replace(
        b'<inputExpression id="ie_d_1"',
        b'<inputExpression id="ie_d_1" expressionLanguage="https://www.omg.org/spec/DMN/20191111/FEEL/"',
    )
    assert "d" in parse_dmn(feel).decisions


def test_duplicate_input_labels_get_distinct_keys() -> None:
    model = parse_dmn(
        dmn(Table("d", [In("a", "Same"), In("b", "Same")], [Out("y")], [R(["1", "2"], ["true"])]))
    )
    result = model.evaluate("d", {"a": 1, "b": 2})
    assert result.inputs == {"Same": 1, "Same #2": 2}
    assert result.outputs == {"y": True}


def test_input_key_falls_back_to_expression() -> None:
    model = parse_dmn(dmn(Table("d", [In("ticket.impact")], [Out("y")], [R(["-"], ["1"])])))
    assert model.evaluate("d", {"ticket": {"impact": "high"}}).inputs == {"ticket.impact": "high"}


# ---------------------------------------------------------------------------------------------- requirements


def test_missing_required_decision() -> None:
    (problem,) = problems_of(dmn(Table("a", [In("x")], [Out("y")], [], required=["nope"])))
    assert problem.decision_id == "a" and "#nope" in problem.message


def test_required_decision_cycle() -> None:
    problems = problems_of(
        dmn(
            Table("a", [In("x")], [Out("ya")], [], required=["b"]),
            Table("b", [In("x")], [Out("yb")], [], required=["c"]),
            Table("c", [In("x")], [Out("yc")], [], required=["a"]),
        )
    )
    assert len(problems) == 1
    assert "cycle" in problems[0].message and "a -> b -> c -> a" in problems[0].message


def test_self_requirement_is_a_cycle() -> None:
    (problem,) = problems_of(dmn(Table("a", [In("x")], [Out("y")], [], required=["a"])))
    assert "a -> a" in problem.message


def test_external_requirement_href() -> None:
    xml = dmn(Table("a", [In("x")], [Out("y")], [], required=["b"])).replace(
        b'href="#b"', b'href="other.dmn#b"'
    )
    (problem,) = problems_of(xml)
    assert "other.dmn#b" in problem.message


def test_requirement_chain_depth_is_limited() -> None:
    tables = [
        Table(f"d{n}", [In("x")], [Out(f"y{n}")], [], required=[f"d{n + 1}"] if n < 99 else [])
        for n in range(100)
    ]
    (problem,) = problems_of(dmn(*tables))
    assert problem.message == "required decisions are nested 100 deep (the limit is 64)"
    # the same chain written bottom-up is caught too
    (problem,) = problems_of(dmn(*reversed(tables)))
    assert "nested 100 deep" in problem.message


def test_requirement_chain_within_limit_evaluates() -> None:
    tables = [
        Table(
            f"d{n}",
            [In("x")],
            [Out(f"y{n}", "integer")],
            [R(["-"], [f"y{n + 1} + 1" if n < 39 else "0"])],
            required=[f"d{n + 1}"] if n < 39 else [],
        )
        for n in range(40)
    ]
    assert parse_dmn(dmn(*tables)).evaluate("d0", {}).outputs == {"y0": 39}
