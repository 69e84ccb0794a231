"""The engine and the web layer know no shipped process by name: what they need is declared in the diagram
(engine/diagram/declarations.py). Any quoted shipped key in their code or templates fails this test."""

from __future__ import annotations

import re
from pathlib import Path

from engine.diagram.declarations import read
from engine.diagram.metadata import read_processes
from engine.diagram.xmlsafe import parse_xml

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.name for p in (ROOT / "processes").iterdir() if any(p.glob("*.bpmn")))
QUOTED = re.compile(r"""(["'`])(""" + "|".join(SHIPPED) + r")\1")
SCANNED = ("*.py", "*.html", "*.js", "*.mjs")


def _sources() -> list[Path]:
    found = []
    for package in ("engine", "web"):
        for pattern in SCANNED:
            found += [p for p in (ROOT / package).rglob(pattern) if "static" not in p.relative_to(ROOT).parts]
    return sorted(found)


def test_the_shipped_processes_are_the_five() -> None:
    assert SHIPPED == ["change", "improvement", "release", "response", "triage"]


def test_no_shipped_process_key_in_the_engine_or_the_web_layer() -> None:
    sources = _sources()
    assert len(sources) > 50 and any(p.suffix == ".html" for p in sources)
    hits = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in sources
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if QUOTED.search(line)]
    assert hits == [], "shipped process keys in engine/ or web/:\n" + "\n".join(hits)


def test_the_scan_finds_a_key_when_there_is_one() -> None:
    assert QUOTED.search('    if process_key == "change":')
    assert QUOTED.search("{% if kind == 'triage' %}")
    assert not QUOTED.search('"No change the engine would see"')


def test_every_shipped_diagram_declares_what_the_services_need() -> None:
    for key in SHIPPED:
        meta = read_processes(parse_xml((ROOT / "processes" / key / f"{key}.bpmn").read_bytes()))[key]
        explicit = {name for name, _ in meta.properties}
        assert {"record_kind", "key_prefix", "requester_field", "team"} <= explicit, key
        decl = read(meta)
        assert decl.team in decl.roles and decl.key_prefix.isupper()
