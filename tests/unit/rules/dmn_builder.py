"""Builds small DMN documents for tests, shaped like dmn-js output, so each test states only its table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

NS_11 = "http://www.omg.org/spec/DMN/20151101/dmn.xsd"
NS_12 = "http://www.omg.org/spec/DMN/20180521/MODEL/"
NS_13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


@dataclass
class In:
    expression: str
    label: str | None = None
    type_ref: str | None = "string"


@dataclass
class Out:
    name: str
    type_ref: str | None = "string"
    allowed: str | None = None  # outputValues text, e.g. '"P1","P2"'
    label: str | None = None


@dataclass
class R:
    inputs: Sequence[str]
    outputs: Sequence[str]
    id: str | None = None
    description: str | None = None


@dataclass
class Table:
    id: str
    inputs: Sequence[In]
    outputs: Sequence[Out]
    rules: Sequence[R]
    hit_policy: str | None = None
    aggregation: str | None = None
    name: str | None = None
    required: Sequence[str] = field(default_factory=tuple)


def _attr(name: str, value: str | None) -> str:
    return f" {name}={quoteattr(value)}" if value is not None else ""


def _decision_xml(t: Table) -> str:
    parts = [f'  <decision id="{t.id}" name={quoteattr(t.name or t.id)}>']
    for n, req in enumerate(t.required, 1):
        parts.append(
            f'    <informationRequirement id="req_{t.id}_{n}"><requiredDecision href="#{req}" />'
            "</informationRequirement>"
        )
    parts.append(
        f'    <decisionTable id="table_{t.id}"{_attr("hitPolicy", t.hit_policy)}'
        f"{_attr('aggregation', t.aggregation)}>"
    )
    for n, i in enumerate(t.inputs, 1):
        parts.append(
            f'      <input id="in_{t.id}_{n}"{_attr("label", i.label)}>'
            f'<inputExpression id="ie_{t.id}_{n}"{_attr("typeRef", i.type_ref)}>'
            f"<text>{escape(i.expression)}</text></inputExpression></input>"
        )
    for n, o in enumerate(t.outputs, 1):
        values = (
            f'<outputValues id="ov_{t.id}_{n}"><text>{escape(o.allowed)}</text></outputValues>'
            if o.allowed
            else ""
        )
        parts.append(
            f'      <output id="out_{t.id}_{n}"{_attr("label", o.label)} name="{o.name}"'
            f"{_attr('typeRef', o.type_ref)}>{values}</output>"
        )
    for n, r in enumerate(t.rules, 1):
        rid = r.id or f"r{n}"
        parts.append(f'      <rule id="{rid}">')
        if r.description:
            parts.append(f"        <description>{escape(r.description)}</description>")
        for k, cell in enumerate(r.inputs, 1):
            parts.append(f'        <inputEntry id="{rid}_i{k}"><text>{escape(cell)}</text></inputEntry>')
        for k, cell in enumerate(r.outputs, 1):
            parts.append(f'        <outputEntry id="{rid}_o{k}"><text>{escape(cell)}</text></outputEntry>')
        parts.append("      </rule>")
    parts.append("    </decisionTable>\n  </decision>")
    return "\n".join(parts)


def dmn(*tables: Table, ns: str = NS_13) -> bytes:
    body = "\n".join(_decision_xml(t) for t in tables)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{ns}" id="defs" name="test" '
        f'namespace="http://camunda.org/schema/1.0/dmn">\n{body}\n</definitions>\n'
    ).encode()


def one_input(cell: str, type_ref: str | None = None, expression: str = "x") -> bytes:
    """A one-rule table whose single input entry is ``cell``: output ``hit`` is true when it matches."""
    return dmn(
        Table("t", [In(expression, type_ref=type_ref)], [Out("hit", "boolean")], [R([cell], ["true"])])
    )
