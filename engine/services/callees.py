"""Call activities to processes in other files: the called process is resolved among the deployed versions when
the caller deploys (the latest, or the version `camunda:calledElementBinding="version"` names) and its diagram
parsed with the caller's, so the engine finds it. What the caller's version calls is kept for the call
hierarchy."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from sqlalchemy import select

from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import ProcessVersion
from engine.diagram.metadata import BPMN_NS, CAMUNDA_NS, HUMAN_KINDS, NS, ProcessMeta
from engine.diagram.xmlsafe import parse_xml

MAX_DEPTH = 20


@dataclass
class Resolved:
    roots: list[tuple[etree._Element, str]] = field(default_factory=list)  # callee documents for the parser
    calls: list[dict[str, Any]] = field(default_factory=list)  # the caller's own calls: element, key, version
    metas: list[ProcessMeta] = field(default_factory=list)  # each callee version's elements (roles, forms)
    problems: list[dict[str, Any]] = field(default_factory=list)


def _row(uow: UnitOfWork, key: str, version: int | None) -> ProcessVersion | None:
    stmt = select(ProcessVersion).where(ProcessVersion.key == key)
    if version is not None:
        stmt = stmt.where(ProcessVersion.version == version)
    return uow.session.execute(stmt.order_by(ProcessVersion.version.desc()).limit(1)).scalar_one_or_none()


def _wanted_version(node: etree._Element) -> tuple[int | None, str | None]:
    binding = node.get(f"{{{CAMUNDA_NS}}}calledElementBinding", "latest")
    if binding != "version":
        return None, None
    raw = (node.get(f"{{{CAMUNDA_NS}}}calledElementVersion") or "").strip()
    if not raw.isdigit():
        return None, (f'camunda:calledElementBinding="version" needs camunda:calledElementVersion with a version '
                      f"number (found {raw!r})")
    return int(raw), None


def resolve(uow: UnitOfWork, root: etree._Element) -> Resolved:
    """Finds every process the document calls that it does not hold itself, and theirs in turn."""
    out = Resolved()
    seen: set[tuple[str, int]] = set()
    pending = [(root, 0)]
    while pending:
        doc, depth = pending.pop()
        local = {p.get("id") for p in doc.iterfind("bpmn:process", NS)}
        for node in doc.iter(f"{{{BPMN_NS}}}callActivity"):
            called = (node.get("calledElement") or "").strip()
            if not called or called in local:
                continue
            el_id = node.get("id", "")
            if called.startswith(("${", "#{")):
                out.problems.append({"element_id": el_id, "line": node.sourceline, "message": (
                    f"callActivity {el_id!r} chooses the called process by the expression {called!r}; name the "
                    "process key in calledElement")})
                continue
            version, bad = _wanted_version(node)
            if bad:
                out.problems.append({"element_id": el_id, "line": node.sourceline, "message": bad})
                continue
            row = _row(uow, called, version)
            if row is None:
                what = f"version {version} of process {called!r}" if version else f"process {called!r}"
                out.problems.append({"element_id": el_id, "line": node.sourceline, "message": (
                    f"callActivity {el_id!r} calls {what}, which is not deployed: deploy it first, or upload both "
                    "files as one bundle")})
                continue
            if doc is root:
                out.calls.append({"element_id": el_id, "key": row.key, "version": row.version})
            if (row.key, row.version) in seen or depth >= MAX_DEPTH:
                continue
            seen.add((row.key, row.version))
            callee = parse_xml(row.bpmn_xml, f"{row.key}.bpmn")
            out.roots.append((callee, f"{row.key}.v{row.version}.bpmn"))
            out.metas.append(ProcessMeta.from_dict(json.loads(row.meta_json)))
            pending.append((callee, depth + 1))
    return out


def merge_meta(pm: ProcessMeta, resolved: Resolved) -> list[dict[str, Any]]:
    """The callee versions' elements join the caller's metadata (the runtime looks tasks up by element id);
    a callee task whose id the caller also uses would be mistaken for the caller's: refused."""
    problems = []
    for meta in resolved.metas:
        for el_id, el in meta.elements.items():
            mine = pm.elements.get(el_id)
            if mine is None:
                pm.elements[el_id] = el
            elif el.kind in HUMAN_KINDS or mine.kind in HUMAN_KINDS:
                problems.append({"element_id": el_id, "message": (
                    f"{mine.kind} {el_id!r} has the same id as {el.kind} {el_id!r} in the called process "
                    f"{meta.id!r}; rename one of them so each task is known by its own id")})
        for flow_id, flow in meta.flows.items():
            pm.flows.setdefault(flow_id, flow)
    return problems


def called_by(uow: UnitOfWork, key: str) -> list[dict[str, Any]]:
    """The latest version of each process whose calls name `key`."""
    rows = uow.session.execute(select(ProcessVersion.key, ProcessVersion.version, ProcessVersion.meta_json)
                               .order_by(ProcessVersion.key, ProcessVersion.version.desc())).all()
    latest: dict[str, tuple[int, str]] = {}
    for row_key, version, meta_json in rows:
        latest.setdefault(row_key, (version, meta_json))
    found = []
    for caller, (version, meta_json) in latest.items():
        for call in json.loads(meta_json).get("calls", []):
            if call["key"] == key:
                found.append({"key": caller, "version": version, "element_id": call["element_id"],
                              "calls_version": call["version"]})
    return found


def hierarchy(uow: UnitOfWork, key: str) -> dict[str, Any]:
    """What the latest version of `key` calls (and, below, what those call), and who calls it."""
    from engine.errors import NotFound

    head = _row(uow, key, None)
    if head is None:
        raise NotFound(f"no process {key}")

    def calls_of(row: ProcessVersion, depth: int, seen: frozenset[str]) -> list[dict[str, Any]]:
        out = []
        for call in json.loads(row.meta_json).get("calls", []):
            callee = _row(uow, call["key"], call["version"])
            below = calls_of(callee, depth + 1, seen | {call["key"]}) if callee is not None and depth < MAX_DEPTH \
                and call["key"] not in seen else []
            out.append({**call, "calls": below})
        return out

    return {"key": key, "version": head.version, "calls": calls_of(head, 0, frozenset({key})),
            "called_by": called_by(uow, key)}


def call_hierarchy(db: Database, key: str) -> dict[str, Any]:
    with unit_of_work(db, readonly=True) as uow:
        return hierarchy(uow, key)
