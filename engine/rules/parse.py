"""DMN XML -> DmnModel. Parses defensively and reports every problem in the file at once."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from .errors import DmnParseError, Problem
from .expr import Expr, const
from .feel import compile_expression, compile_unary_tests, compile_value_list
from .hitpolicy import AGGREGATIONS, HIT_POLICIES, ORDERED_BY_OUTPUT, normalize_hit_policy
from .lexer import KNOWN_NAMES, FeelError
from .model import Decision, DmnModel, Getter, Input, Output, Rule
from .values import coercer_for, feel_text

MAX_BYTES = 2 * 1024 * 1024

DMN_NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    # Later versions keep decision tables unchanged; accepting them costs nothing.
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}

# A DOCTYPE is the only way to declare entities, and DMN never needs one: refusing it outright closes both
# entity-expansion bombs and external-entity reads before libxml2 sees the document.
_DTD_RE = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)

# Evaluation recurses once per level of requirement; real DRDs are a handful deep.
MAX_REQUIREMENT_DEPTH = 64

_DRG_EXPRESSIONS = ("literalExpression", "context", "invocation", "relation", "list", "functionDefinition")


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False,
        remove_comments=True, remove_pis=True,
    )


def _fail(message: str) -> DmnParseError:
    return DmnParseError([Problem(None, None, None, message)])


def _load_root(xml: bytes | str) -> etree._Element:
    if isinstance(xml, str):
        xml = xml.encode("utf-8")
    if not isinstance(xml, (bytes, bytearray)):
        raise _fail(f"DMN must be given as bytes, got {type(xml).__name__}")
    if len(xml) > MAX_BYTES:
        raise _fail(f"DMN file is {len(xml)} bytes; the limit is {MAX_BYTES} bytes (2 MB)")
    if _DTD_RE.search(xml):
        raise _fail(
            "DOCTYPE/ENTITY declarations are not allowed in DMN files (entity expansion, external entities)"
        )
    try:
        root = etree.fromstring(bytes(xml), parser=_xml_parser())
    except etree.XMLSyntaxError as exc:
        raise _fail(f"not well-formed XML: {exc}") from None
    # Catches a DOCTYPE in an encoding the byte scan cannot read (e.g. UTF-16).
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise _fail("DOCTYPE declarations are not allowed in DMN files")
    return root


def parse_dmn(xml: bytes) -> DmnModel:
    """Parse and compile a DMN 1.1-1.5 file (as written by dmn-js / Camunda Modeler) into a DmnModel."""
    root = _load_root(xml)
    ns = etree.QName(root).namespace or ""
    if etree.QName(root).localname != "definitions" or ns not in DMN_NAMESPACES:
        raise _fail(
            f"not a DMN file: root element is {root.tag}, expected definitions in a DMN 1.1-1.5 namespace"
        )
    builder = _Builder(ns)
    builder.check_language(root, None, None, None)
    token = KNOWN_NAMES.set(_names_with_spaces(root, ns))
    try:
        return _build(root, ns, builder)
    finally:
        KNOWN_NAMES.reset(token)


_MULTI_WORD = re.compile(r"^[^\W\d]\w*(\s+\w+)+$")


def _names_with_spaces(root: Any, ns: str) -> frozenset[str]:
    """Multi-word names the file declares: input data, decisions and their variables, outputs, and input
    expressions that are a bare name ("Applicant Age")."""
    found = set()
    for el in root.iter(f"{{{ns}}}inputData", f"{{{ns}}}decision", f"{{{ns}}}variable", f"{{{ns}}}output"):
        found.add(el.get("name") or "")
    for el in root.iter(f"{{{ns}}}inputExpression"):
        found.add(" ".join((el.findtext(f"{{{ns}}}text") or "").split()))
    return frozenset(" ".join(n.split()) for n in found if _MULTI_WORD.match(" ".join(n.split())))


def _build(root: Any, ns: str, builder: _Builder) -> DmnModel:
    decisions: dict[str, Decision] = {}
    requirements: dict[str, list[str]] = {}
    seen_ids: set[str] = set()
    for element in root.iterchildren(f"{{{ns}}}decision"):
        decision_id = element.get("id")
        if not decision_id:
            builder.problem(None, None, None, f"decision {element.get('name')!r} has no id")
            continue
        if decision_id in seen_ids:
            builder.problem(decision_id, None, None, "duplicate decision id")
            continue
        seen_ids.add(decision_id)
        requirements[decision_id] = builder.requirements(element, decision_id)
        decision = builder.decision(element, decision_id)
        if decision is not None:
            decision.required = requirements[decision_id]
            decisions[decision_id] = decision
    if not seen_ids:
        builder.problem(None, None, None, "the file contains no decisions")
    _check_requirements(builder, requirements)
    if builder.problems:
        raise DmnParseError(builder.problems)
    return DmnModel(
        decisions, dmn_version=DMN_NAMESPACES[ns], name=root.get("name"), namespace=root.get("namespace")
    )


def _check_requirements(builder: _Builder, requirements: dict[str, list[str]]) -> None:
    for decision_id, required in requirements.items():
        for rid in required:
            if rid not in requirements:
                builder.problem(decision_id, None, None, f"required decision #{rid} is not in this file")
    # Iterative depth-first search so a long (hostile) chain cannot exhaust the interpreter stack.
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    depth: dict[str, int] = {}  # longest requirement chain below a finished decision, itself included
    for start in requirements:
        if start in state:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        state[start] = 1
        while stack:
            node, child = stack[-1]
            edges = [r for r in requirements[node] if r in requirements]
            if child < len(edges):
                stack[-1] = (node, child + 1)
                nxt = edges[child]
                if state.get(nxt) == 1:
                    path = [n for n, _ in stack]
                    cycle = " -> ".join([*path[path.index(nxt):], nxt])
                    builder.problem(node, None, None, f"required decisions form a cycle: {cycle}")
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                depth[node] = 1 + max((depth.get(r, 0) for r in edges), default=0)
                stack.pop()
    deepest = max(depth, key=depth.__getitem__, default=None)
    if deepest is not None and depth[deepest] > MAX_REQUIREMENT_DEPTH:
        limit = f"the limit is {MAX_REQUIREMENT_DEPTH}"
        builder.problem(deepest, None, None, f"required decisions are nested {depth[deepest]} deep ({limit})")


class _Builder:
    def __init__(self, ns: str) -> None:
        self.ns = ns
        self.problems: list[Problem] = []

    def q(self, local: str) -> str:
        return f"{{{self.ns}}}{local}"

    def problem(self, decision_id: str | None, rule_id: str | None, cell: str | None, message: str) -> None:
        self.problems.append(Problem(decision_id, rule_id, cell, message))

    def text(self, element: Any) -> str:
        if element is None:
            return ""
        return (element.findtext(self.q("text")) or "").strip()

    def check_language(
        self, element: Any, decision_id: str | None, rule_id: str | None, cell: str | None
    ) -> None:
        language = element.get("expressionLanguage") if element is not None else None
        if language and "feel" not in language.lower():
            self.problem(decision_id, rule_id, cell, f'expression language "{language}" is not supported '
                         "(FEEL only)")

    def requirements(self, element: Any, decision_id: str) -> list[str]:
        required: list[str] = []
        for req in element.iterchildren(self.q("informationRequirement")):
            for ref in req.iterchildren(self.q("requiredDecision")):
                href = ref.get("href") or ""
                target, _, local = href.partition("#")
                if target or not local:
                    self.problem(decision_id, None, None,
                                 f'required decision reference "{href}" must be "#id" in this file')
                    continue
                required.append(local)
        return required

    # ------------------------------------------------------------------ decision

    def decision(self, element: Any, decision_id: str) -> Decision | None:
        name = element.get("name") or decision_id
        table = element.find(self.q("decisionTable"))
        literal = element.find(self.q("literalExpression"))
        if table is None and literal is not None:
            return self.literal(element, literal, decision_id, name)
        if table is None:
            for kind in _DRG_EXPRESSIONS:
                other = element.find(self.q(kind))
                if other is not None:
                    text = self.text(other) if kind == "literalExpression" else ""
                    detail = f" ({text})" if text else ""
                    self.problem(decision_id, None, None,
                                 f"decision logic is a {kind}{detail}; only decision tables are supported")
                    return None
            self.problem(decision_id, None, None, "decision has no decision table")
            return None
        self.check_language(table, decision_id, None, None)
        before = len(self.problems)
        hit_policy = normalize_hit_policy(table.get("hitPolicy"))
        if hit_policy not in HIT_POLICIES:
            self.problem(decision_id, None, None, f'unknown hit policy "{table.get("hitPolicy")}" '
                         f"(expected one of {', '.join(HIT_POLICIES)})")
        aggregation = (table.get("aggregation") or "").strip().upper() or None
        if aggregation is not None:
            if aggregation not in AGGREGATIONS:
                self.problem(decision_id, None, None, f'unknown aggregation "{table.get("aggregation")}" '
                             f"(expected one of {', '.join(AGGREGATIONS)})")
            elif hit_policy != "COLLECT":
                self.problem(decision_id, None, None, f"aggregation {aggregation} only applies to COLLECT")
        inputs = self.inputs(table, decision_id)
        outputs = self.outputs(table, decision_id)
        if hit_policy in ORDERED_BY_OUTPUT and outputs and not any(o.allowed_values for o in outputs):
            self.problem(decision_id, None, None, f"{hit_policy} hit policy needs output values (the "
                         "priority list, e.g. \"P1\",\"P2\") on at least one output")
        rules = [self.rule(el, n, decision_id, hit_policy, inputs, outputs)
                 for n, el in enumerate(table.iterchildren(self.q("rule")), 1)]
        if len(self.problems) > before:
            return None
        return Decision(decision_id, name, hit_policy, aggregation, inputs, outputs, rules, [])

    def literal(self, element: Any, literal: Any, decision_id: str, name: str) -> Decision | None:
        """A literal-expression decision: one FEEL expression; its value is the output named after the
        decision's variable (else the decision's name). Built as a one-rule table with no inputs, so evaluation,
        evidence and requirement chains are the tables' own."""
        self.check_language(literal, decision_id, None, "literal expression")
        text = self.text(literal)
        variable = element.find(self.q("variable"))
        out_name = (variable.get("name") if variable is not None else None) or name
        type_ref = (variable.get("typeRef") if variable is not None else None) or literal.get("typeRef")
        if not text:
            self.problem(decision_id, None, "literal expression", "the literal expression is empty")
            return None
        try:
            expr = _with_coercion(compile_expression(text, "literal expression"), type_ref)
        except FeelError as exc:
            self.problem(decision_id, None, "literal expression", str(exc))
            return None
        rule = Rule(id=f"{decision_id}_literal", index=1, description="", input_entries=(), output_entries=(text,),
                    tests=(), outputs=(expr.fn,), conditions=(),
                    constant_outputs=(expr.value,) if expr.is_const else None)
        output = Output(f"{decision_id}_output", out_name, None, type_ref)
        return Decision(decision_id, name, "UNIQUE", None, [], [output], [rule], [])

    def inputs(self, table: Any, decision_id: str) -> list[Input]:
        inputs: list[Input] = []
        keys: set[str] = set()
        for n, el in enumerate(table.iterchildren(self.q("input")), 1):
            expression_el = el.find(self.q("inputExpression"))
            expression = self.text(expression_el)
            label = el.get("label")
            key = label or expression or el.get("id") or f"input {n}"
            if key in keys:  # two columns with the same label would overwrite each other in the evidence
                key = f"{key} #{n}"
            keys.add(key)
            cell = f"input {n} ({key})"
            self.check_language(expression_el, decision_id, None, cell)
            type_ref = expression_el.get("typeRef") if expression_el is not None else None
            read: Getter = lambda ctx: None  # noqa: E731 - placeholder; the decision is rejected anyway
            try:
                read = _with_coercion(compile_expression(expression, "input expression"), type_ref).fn
            except FeelError as exc:
                self.problem(decision_id, None, cell, str(exc))
            allowed: tuple[Any, ...] = ()
            try:
                allowed = compile_value_list(self.text(el.find(self.q("inputValues"))))
            except FeelError:
                pass  # inputValues may be unary tests (ranges, "< 5"): they only feed suggestions, never matching
            inputs.append(Input(el.get("id") or f"input{n}", label, expression, type_ref, key, read, allowed))
        return inputs

    def outputs(self, table: Any, decision_id: str) -> list[Output]:
        outputs: list[Output] = []
        names: set[str] = set()
        for n, el in enumerate(table.iterchildren(self.q("output")), 1):
            name = el.get("name") or el.get("label") or el.get("id") or f"output{n}"
            cell = f"output {n} ({name})"
            if name in names:
                self.problem(decision_id, None, cell, f'duplicate output name "{name}"')
            names.add(name)
            allowed: tuple[Any, ...] = ()
            values_el = el.find(self.q("outputValues"))
            try:
                allowed = compile_value_list(self.text(values_el))
            except FeelError as exc:
                self.problem(decision_id, None, cell, str(exc))
            output_id = el.get("id") or f"output{n}"
            outputs.append(Output(output_id, name, el.get("label"), el.get("typeRef"), allowed))
        if not outputs:
            self.problem(decision_id, None, None, "decision table has no outputs")
        return outputs

    # ------------------------------------------------------------------ rule

    def rule(self, element: Any, n: int, decision_id: str, hit_policy: str,
             inputs: list[Input], outputs: list[Output]) -> Rule:
        rule_id = element.get("id") or f"rule{n}"
        description = (element.findtext(self.q("description")) or "").strip()
        if not description:
            notes = [self.text(a) for a in element.iterchildren(self.q("annotationEntry"))]
            description = "; ".join(note for note in notes if note)
        input_els = list(element.iterchildren(self.q("inputEntry")))
        output_els = list(element.iterchildren(self.q("outputEntry")))
        if len(input_els) != len(inputs):
            self.problem(decision_id, rule_id, None,
                         f"rule has {len(input_els)} input entries but the table has {len(inputs)} inputs")
        if len(output_els) != len(outputs):
            self.problem(decision_id, rule_id, None, f"rule has {len(output_els)} output entries but the "
                         f"table has {len(outputs)} outputs")
        tests = []
        conditions = []
        for position, (entry, inp) in enumerate(zip(input_els, inputs, strict=False)):
            cell = f"input {position + 1} ({inp.key})"
            self.check_language(entry, decision_id, rule_id, cell)
            text = self.text(entry)
            try:
                test = compile_unary_tests(text)
            except FeelError as exc:
                self.problem(decision_id, rule_id, cell, str(exc))
                continue
            if not test.wildcard:
                tests.append((position, test.fn))
                conditions.append((inp.key, " ".join(text.split())))
        getters = []
        exprs: list[Expr] = []
        for position, (entry, out) in enumerate(zip(output_els, outputs, strict=False)):
            cell = f"output {position + 1} ({out.name})"
            self.check_language(entry, decision_id, rule_id, cell)
            text = self.text(entry)
            try:
                expr = compile_expression(text, "output entry") if text else const(None)
            except FeelError as exc:
                self.problem(decision_id, rule_id, cell, str(exc))
                continue
            if (hit_policy in ORDERED_BY_OUTPUT and out.allowed_values and expr.is_const
                    and expr.value is not None and out.rank(expr.value) == len(out.allowed_values)):
                allowed = ", ".join(feel_text(v) for v in out.allowed_values)
                self.problem(decision_id, rule_id, cell, f"{feel_text(expr.value)} is not one of the output "
                             f"values {allowed}, so it has no priority")
            expr = _with_coercion(expr, out.type_ref)
            exprs.append(expr)
            getters.append(expr.fn)
        constants = [expr.value for expr in exprs if expr.is_const]
        return Rule(
            id=rule_id, index=n, description=description,
            input_entries=tuple(self.text(e) for e in input_els),
            output_entries=tuple(self.text(e) for e in output_els),
            tests=tuple(tests), outputs=tuple(getters), conditions=tuple(conditions),
            constant_outputs=tuple(constants) if len(constants) == len(outputs) else None,
        )


def _with_coercion(expr: Expr, type_ref: str | None) -> Expr:
    coerce = coercer_for(type_ref)
    if coerce is None:
        return expr
    if expr.is_const:
        return const(coerce(expr.value))
    fn = expr.fn
    return Expr(lambda ctx: coerce(fn(ctx)))
