"""Throwaway layout helper: writes the BPMNDI (shapes and edges) of a hand-written BPMN file from a grid.

The semantic part of each diagram (lanes, tasks, flows, forms) is written by hand; this only places it.
Each flow node gets a (column, row) cell; a lane is a band of rows; edges are routed orthogonally, with a
hand-written route for the loops. Usage:

    .venv/bin/python tools/bpmn_layout.py processes/triage/triage.bpmn [more.bpmn ...]

The file is rewritten in place (its old BPMNDiagram is replaced). A process opened and saved in the Camunda
Modeler afterwards keeps the modeller's own layout; this tool is not needed to run anything.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI}

X0, Y0 = 100, 60  # top-left corner of the pool
POOL_BAND = 30  # the pool's name band on the left
LANE_BAND = 30  # each lane's name band
COL_W, ROW_H = 130, 120
TASKS = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
         "receiveTask", "callActivity", "subProcess"}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway"}


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float
    kind: str

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def right(self) -> tuple[float, float]:
        return (self.x + self.w, self.cy)

    def left(self) -> tuple[float, float]:
        return (self.x, self.cy)

    def top(self) -> tuple[float, float]:
        return (self.cx, self.y)

    def bottom(self) -> tuple[float, float]:
        return (self.cx, self.y + self.h)


def cx(col: float) -> float:
    return X0 + POOL_BAND + LANE_BAND + 70 + col * COL_W


def cy(row: float) -> float:
    return Y0 + row * ROW_H + ROW_H / 2


def row_top(row: int) -> float:
    return Y0 + row * ROW_H


def row_bottom(row: int) -> float:
    return Y0 + (row + 1) * ROW_H


Route = Callable[[Box, Box], list[tuple[float, float]]]


@dataclass
class Layout:
    lanes: dict[str, int]  # lane id -> rows, top to bottom
    nodes: dict[str, tuple[float, float]]  # flow node id -> (column, row)
    row_h: int = 120
    boundaries: dict[str, float] = field(default_factory=dict)  # boundary id -> x offset on its task's bottom
    routes: dict[str, Route] = field(default_factory=dict)  # flow id -> waypoints
    labels_left: set[str] = field(default_factory=set)  # boundary events whose name goes on their left
    expanded: dict[str, tuple[float, float, int]] = field(default_factory=dict)  # sub-process -> (col, col, row)


def below(row: int, lift: float = 12) -> Route:
    """A back edge under the shapes of `row`: down from the source, along, up into the target."""
    return lambda s, t: [s.bottom(), (s.cx, row_bottom(row) - lift), (t.cx, row_bottom(row) - lift), t.bottom()]


def above(row: int, drop: float = 12) -> Route:
    """An edge over the shapes of `row`: up from the source, along, down into the target."""
    return lambda s, t: [s.top(), (s.cx, row_top(row) + drop), (t.cx, row_top(row) + drop), t.top()]


def gap_below(row: int, x: float | None = None, lift: float = 6) -> Route:
    """From a boundary event down into the gap under `row`; then along to `x`, down or up to the target's middle
    and into its left side; or, without `x`, along to the target's column and into its top or bottom."""

    def route(s: Box, t: Box) -> list[tuple[float, float]]:
        y = row_bottom(row) - lift
        points = [s.bottom(), (s.cx, y)]
        if x is not None:
            return points + [(x, y), (x, t.cy), t.left()]
        return points + [(t.cx, y), t.top() if t.cy > y else t.bottom()]

    return route


def into_bottom(s: Box, t: Box) -> list[tuple[float, float]]:
    """Right from the source, then up (or down) into the target's bottom (or top)."""
    return [s.right(), (t.cx, s.cy), t.bottom() if t.cy < s.cy else t.top()]


def via_row(row: int) -> Route:
    """Out of the source's top or bottom to the middle of `row`, along, into the target's top or bottom."""

    def route(s: Box, t: Box) -> list[tuple[float, float]]:
        y = cy(row)
        start = s.top() if y < s.cy else s.bottom()
        end = t.top() if y < t.cy else t.bottom()
        return [start, (s.cx, y), (t.cx, y), end]

    return route


def default_route(s: Box, t: Box) -> list[tuple[float, float]]:
    if abs(s.cy - t.cy) < 1:
        if t.x >= s.x + s.w:
            return [s.right(), t.left()]
        lift = s.cy + ROW_H / 2 - 12
        return [s.bottom(), (s.cx, lift), (t.cx, lift), t.bottom()]
    down = t.cy > s.cy
    if abs(s.cx - t.cx) < 1:
        return [s.bottom(), t.top()] if down else [s.top(), t.bottom()]
    if t.x >= s.x + s.w - 1:
        if s.kind in GATEWAYS or s.kind == "boundaryEvent":
            return [s.bottom() if down else s.top(), (s.cx, t.cy), t.left()]
        if t.kind in GATEWAYS:
            return [s.right(), (t.cx, s.cy), t.top() if down else t.bottom()]
        mid = (s.x + s.w + t.x) / 2
        return [s.right(), (mid, s.cy), (mid, t.cy), t.left()]
    raise ValueError("backward edge between rows needs a route")


def size(kind: str) -> tuple[float, float]:
    if kind in TASKS:
        return 100, 80
    if kind in GATEWAYS:
        return 50, 50
    return 36, 36


def layout_file(path: Path, layouts: dict[str, Layout]) -> None:
    parser = etree.XMLParser(remove_blank_text=True)
    tree = etree.parse(str(path), parser)
    root = tree.getroot()
    for old in root.findall("bpmndi:BPMNDiagram", NS):
        root.remove(old)
    collab = root.find("bpmn:collaboration", NS)
    participant = collab.find("bpmn:participant", NS)
    process = root.find("bpmn:process", NS)
    lay = layouts[process.get("id")]
    global ROW_H
    ROW_H = lay.row_h

    lane_rows: dict[str, tuple[int, int]] = {}
    first = 0
    for lane_id, rows in lay.lanes.items():
        lane_rows[lane_id] = (first, first + rows)
        first += rows
    total_rows = first
    lane_of = {ref.text: lane.get("id") for lane in process.iter(f"{{{BPMN}}}lane")
               for ref in lane.findall("bpmn:flowNodeRef", NS)}
    for sub in process.iter(f"{{{BPMN}}}subProcess"):  # a sub-process's content is in the sub-process's lane
        for inner in sub.iter():
            if isinstance(inner.tag, str) and inner.get("id") and inner is not sub:
                lane_of[inner.get("id")] = lane_of[sub.get("id")]

    boxes: dict[str, Box] = {}
    kinds = {n.get("id"): etree.QName(n).localname for n in process.iter() if isinstance(n.tag, str) and n.get("id")}
    for node_id, (first_col, last_col, row) in lay.expanded.items():
        x0, x1 = cx(first_col) - 60, cx(last_col) + 60
        boxes[node_id] = Box(x0, cy(row) - (ROW_H - 30) / 2, x1 - x0, ROW_H - 30, "subProcess")
    for node_id, (col, row) in lay.nodes.items():
        kind = kinds[node_id]
        w, h = size(kind)
        boxes[node_id] = Box(cx(col) - w / 2, cy(row) - h / 2, w, h, kind)
        lo, hi = lane_rows[lane_of[node_id]]
        if not lo <= row < hi:
            raise ValueError(f"{node_id} sits in row {row}, outside its lane {lane_of[node_id]} ({lo}..{hi - 1})")
    for node in process.iter(f"{{{BPMN}}}boundaryEvent"):
        task = boxes[node.get("attachedToRef")]
        dx = lay.boundaries[node.get("id")]
        boxes[node.get("id")] = Box(task.x + dx - 18, task.y + task.h - 18, 36, 36, "boundaryEvent")
    missing = [k for k, v in kinds.items() if v in TASKS | EVENTS | GATEWAYS and k not in boxes]
    if missing:
        raise ValueError(f"no place for {missing}")

    width = max(b.x + b.w for b in boxes.values()) + 60 - X0
    diagram = etree.SubElement(root, f"{{{BPMNDI}}}BPMNDiagram", id=f"{process.get('id')}_diagram")
    plane = etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane", id=f"{process.get('id')}_plane",
                             bpmnElement=collab.get("id"))

    def shape(element_id: str, x: float, y: float, w: float, h: float, **extra: str) -> etree._Element:
        el = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id=f"{element_id}_di", bpmnElement=element_id,
                              **extra)
        etree.SubElement(el, f"{{{DC}}}Bounds", x=_n(x), y=_n(y), width=_n(w), height=_n(h))
        return el

    shape(participant.get("id"), X0, Y0, width, total_rows * ROW_H, isHorizontal="true")
    for lane_id, (lo, hi) in lane_rows.items():
        shape(lane_id, X0 + POOL_BAND, row_top(lo), width - POOL_BAND, (hi - lo) * ROW_H, isHorizontal="true")
    for node_id, box in boxes.items():
        extra = {"isMarkerVisible": "true"} if box.kind == "exclusiveGateway" else {}
        if box.kind == "subProcess":
            extra = {"isExpanded": "true"}
        el = shape(node_id, box.x, box.y, box.w, box.h, **extra)
        if box.kind == "boundaryEvent":  # its name beside it, not on the edge leaving its bottom
            label = etree.SubElement(el, f"{{{BPMNDI}}}BPMNLabel")
            x = box.x - 82 if node_id in lay.labels_left else box.x + 40
            etree.SubElement(label, f"{{{DC}}}Bounds", x=_n(x), y=_n(box.y + 22), width="80",
                             height="27")
    for flow in process.iter(f"{{{BPMN}}}sequenceFlow"):
        s, t = boxes[flow.get("sourceRef")], boxes[flow.get("targetRef")]
        route = lay.routes.get(flow.get("id"), default_route)
        edge = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{flow.get('id')}_di",
                                bpmnElement=flow.get("id"))
        for x, y in route(s, t):
            etree.SubElement(edge, f"{{{DI}}}waypoint", x=_n(x), y=_n(y))
    etree.indent(tree, space="  ")
    tree.write(str(path), xml_declaration=True, encoding="UTF-8")
    with open(path, "a") as fh:
        fh.write("\n")


def _n(value: float) -> str:
    return str(int(round(value)))


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bpmn_layout  # the module the layouts import, not __main__: both must share ROW_H
    from bpmn_layouts import LAYOUTS

    for name in argv:
        bpmn_layout.layout_file(Path(name), LAYOUTS)
        print(f"laid out {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
