"""B6: cost of one decision-table evaluation (20 rules, 3 inputs, UNIQUE) in engine/rules.

Run from the repo root: ``python bench/b6_rules.py``. Target: well under 50 µs per evaluation.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.rules import parse_dmn  # needs the sys.path line above

TARGET_US = 50.0
ROUNDS = 7
EVALUATIONS = 20_000

CATEGORIES = ["network", "storage", "identity", "email", "desktop"]
SCORE_BANDS = ["< 10", "[10..40)", "[40..70)", ">= 70"]
REGIONS = ['"eu","uk"', "-", 'not("us")', "-", '"us","ca"']


def _rule(n: int, category: str, band: str, region: str, team: str) -> str:
    return f"""
      <rule id="r{n}">
        <description>rule {n}</description>
        <inputEntry id="r{n}_i1"><text>"{category}"</text></inputEntry>
        <inputEntry id="r{n}_i2"><text>{band.replace("<", "&lt;").replace(">", "&gt;")}</text></inputEntry>
        <inputEntry id="r{n}_i3"><text>{region}</text></inputEntry>
        <outputEntry id="r{n}_o1"><text>"{team}"</text></outputEntry>
      </rule>"""


def build_xml() -> bytes:
    """20 mutually exclusive rules: 5 categories x 4 score bands, with a region test on some of them."""
    rules = []
    n = 0
    for c, category in enumerate(CATEGORIES):
        for b, band in enumerate(SCORE_BANDS):
            n += 1
            rules.append(_rule(n, category, band, REGIONS[(c + b) % len(REGIONS)], f"team_{category}_{b}"))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
    xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/"
    id="bench" name="bench" namespace="http://camunda.org/schema/1.0/dmn"
    exporter="Camunda Modeler" exporterVersion="5.31.0">
  <decision id="assignment" name="Assignment group">
    <decisionTable id="table" hitPolicy="UNIQUE">
      <input id="in1" label="Category">
        <inputExpression id="in1e" typeRef="string"><text>ticket.category</text></inputExpression>
      </input>
      <input id="in2" label="Score">
        <inputExpression id="in2e" typeRef="integer">
          <text>ticket.likelihood * ticket.impact</text>
        </inputExpression>
      </input>
      <input id="in3" label="Region">
        <inputExpression id="in3e" typeRef="string"><text>region</text></inputExpression>
      </input>
      <output id="out1" label="Group" name="group" typeRef="string" />{"".join(rules)}
    </decisionTable>
  </decision>
  <dmndi:DMNDI>
    <dmndi:DMNDiagram>
      <dmndi:DMNShape dmnElementRef="assignment">
        <dc:Bounds height="80" width="180" x="160" y="100" />
      </dmndi:DMNShape>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>""".encode()


DATA = [
    {"ticket": {"category": "identity", "likelihood": 5, "impact": 9}, "region": "us"},   # rule 11
    {"ticket": {"category": "desktop", "likelihood": 9, "impact": 9}, "region": "eu"},    # last rule
    {"ticket": {"category": "network", "likelihood": 1, "impact": 3}, "region": "eu"},    # first rule
    {"ticket": {"category": "printer", "likelihood": 2, "impact": 2}, "region": "eu"},    # no match
]


def main() -> int:
    started = time.perf_counter()
    model = parse_dmn(build_xml())
    parse_ms = (time.perf_counter() - started) * 1000
    decision = model.decisions["assignment"]
    print(f"parsed {len(decision.rules)} rules x {len(decision.inputs)} inputs in {parse_ms:.1f} ms")
    for data in DATA:
        print("  " + model.evaluate("assignment", data).explain())

    evaluate = model.evaluate
    for _ in range(2_000):  # warm-up
        for data in DATA:
            evaluate("assignment", data)

    per_eval_us = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter_ns()
        for i in range(EVALUATIONS):
            evaluate("assignment", DATA[i & 3])
        per_eval_us.append((time.perf_counter_ns() - t0) / EVALUATIONS / 1000)

    median = statistics.median(per_eval_us)
    print(f"{ROUNDS} rounds x {EVALUATIONS} evaluations: median {median:.2f} µs/evaluation "
          f"(min {min(per_eval_us):.2f}, max {max(per_eval_us):.2f}, "
          f"stdev {statistics.stdev(per_eval_us):.2f})")
    ok = median < TARGET_US
    print(f"target < {TARGET_US:.0f} µs: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
