"""mypy checks engine/ and web/; an escape from it must say which error it silences and why. A bare
`# type: ignore`, or one with a code but no reason after it, fails this test."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IGNORE = re.compile(r"#\s*type:\s*ignore")
# `# type: ignore[code]  # why`: an error code in brackets, then a comment with some words.
EXPLAINED = re.compile(r"#\s*type:\s*ignore\[[\w,\s-]+\]\s+#\s*\S.{4,}")


def unexplained(line: str) -> bool:
    return bool(IGNORE.search(line)) and not EXPLAINED.search(line)


def test_every_type_ignore_in_engine_and_web_names_its_code_and_reason() -> None:
    sources = sorted(p for package in ("engine", "web") for p in (ROOT / package).rglob("*.py"))
    assert len(sources) > 50
    hits = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in sources
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if unexplained(line)]
    assert hits == [], "type: ignore without a code and a reason:\n" + "\n".join(hits)


def test_the_scan_tells_an_explained_ignore_from_a_bare_one() -> None:
    assert unexplained("x = f()  # type: ignore")
    assert unexplained("def v():  # type: ignore[no-untyped-def]")
    assert unexplained("x = f()  # type: ignore[arg-type]  #")
    assert not unexplained("x = lib.f()  # type: ignore[attr-defined]  # lib's stubs lack f (added in 2.1)")
    assert not unexplained('label = "type: ignore"')
