"""Every shipped diagram opens cleanly in a modeller and deploys: full BPMNDI, a readable layout (no shapes on
top of each other, every shape inside its lane), and the engine's own validation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from engine.db.database import Database
from engine.diagram.metadata import FLOW_NODE_KINDS
from tests.support import PROCESSES, deploy_process

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
}
DIAGRAMS = sorted(PROCESSES.glob("*/*.bpmn"))
TOLERANCE = 1.0  # pixels: modellers round coordinates


@dataclass(frozen=True)
class Bounds:
    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Bounds) -> bool:
        return (self.x < other.x + other.w and other.x < self.x + self.w
                and self.y < other.y + other.h and other.y < self.y + self.h)

    def contains(self, other: Bounds) -> bool:
        return (other.x >= self.x - TOLERANCE and other.y >= self.y - TOLERANCE
                and other.x + other.w <= self.x + self.w + TOLERANCE
                and other.y + other.h <= self.y + self.h + TOLERANCE)

    def touches(self, point: tuple[float, float]) -> bool:
        x, y = point
        return (self.x - TOLERANCE <= x <= self.x + self.w + TOLERANCE
                and self.y - TOLERANCE <= y <= self.y + self.h + TOLERANCE)


class Diagram:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = etree.parse(str(path)).getroot()
        self.process = self.root.find("bpmn:process[@isExecutable='true']", NS)
        assert self.process is not None, f"{path.name}: no executable process"
        kinds = {f"{{{NS['bpmn']}}}{k}" for k in FLOW_NODE_KINDS}
        self.nodes = {el.get("id"): el for el in self.process.iter() if el.tag in kinds}
        self.flows = {el.get("id"): el for el in self.process.iter(f"{{{NS['bpmn']}}}sequenceFlow")}
        self.lanes = {el.get("id"): el for el in self.process.iter(f"{{{NS['bpmn']}}}lane")}
        self.lane_of = {ref.text.strip(): lane_id for lane_id, lane in self.lanes.items()
                        for ref in lane.findall("bpmn:flowNodeRef", NS) if ref.text}
        self.shapes: dict[str, Bounds] = {}
        for shape in self.root.iterfind(".//bpmndi:BPMNShape", NS):
            b = shape.find("dc:Bounds", NS)
            self.shapes[shape.get("bpmnElement")] = Bounds(*(float(b.get(k)) for k in ("x", "y", "width", "height")))
        self.edges = {edge.get("bpmnElement"): [(float(p.get("x")), float(p.get("y")))
                                                for p in edge.findall("di:waypoint", NS)]
                      for edge in self.root.iterfind(".//bpmndi:BPMNEdge", NS)}

    def attached(self, node_id: str) -> str | None:
        return self.nodes[node_id].get("attachedToRef")

    def container(self, node_id: str) -> str | None:
        """The expanded sub-process a node sits in, if any."""
        parent = self.nodes[node_id].getparent()
        return parent.get("id") if parent is not None and parent.get("id") in self.nodes else None

    def containers(self, node_id: str) -> list[str]:
        found, current = [], self.container(node_id)
        while current is not None:
            found.append(current)
            current = self.container(current)
        return found

    def lane(self, node_id: str) -> str | None:
        """Its own lane; a node inside a sub-process is in the lane of the sub-process."""
        for candidate in [node_id, *self.containers(node_id)]:
            if candidate in self.lane_of:
                return self.lane_of[candidate]
        return None

    def related(self, a: str, b: str) -> bool:
        """Shapes that sit on or in each other by definition: a boundary event on its activity's border, a
        node inside its sub-process."""
        return self.attached(a) == b or self.attached(b) == a or a in self.containers(b) or b in self.containers(a)


@pytest.fixture(params=DIAGRAMS, ids=[f"{p.parent.name}/{p.name}" for p in DIAGRAMS])
def diagram(request: pytest.FixtureRequest) -> Diagram:
    return Diagram(request.param)


def test_every_flow_node_and_flow_has_di(diagram: Diagram) -> None:
    assert diagram.root.find("bpmndi:BPMNDiagram", NS) is not None
    missing_shapes = sorted(set(diagram.nodes) - set(diagram.shapes))
    missing_edges = sorted(set(diagram.flows) - set(diagram.edges))
    assert not missing_shapes, f"flow nodes without a shape: {missing_shapes}"
    assert not missing_edges, f"sequence flows without an edge: {missing_edges}"
    for lane_id in diagram.lanes:
        assert lane_id in diagram.shapes, f"lane {lane_id} has no shape"
    short = [f for f in diagram.flows if len(diagram.edges[f]) < 2]
    assert not short, f"edges with fewer than two waypoints: {short}"


def test_edges_start_at_their_source_and_end_at_their_target(diagram: Diagram) -> None:
    loose = []
    for flow_id, flow in diagram.flows.items():
        points = diagram.edges[flow_id]
        source, target = diagram.shapes[flow.get("sourceRef")], diagram.shapes[flow.get("targetRef")]
        if not source.touches(points[0]) or not target.touches(points[-1]):
            loose.append(flow_id)
    assert not loose, f"edges not attached to their shapes: {loose}"


def test_no_two_flow_node_shapes_overlap(diagram: Diagram) -> None:
    ids = sorted(diagram.nodes)
    clashes = []
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            if not diagram.related(a, b) and diagram.shapes[a].overlaps(diagram.shapes[b]):
                clashes.append((a, b))
    assert not clashes, f"overlapping shapes: {clashes}"


def test_every_shape_lies_inside_its_lane(diagram: Diagram) -> None:
    assert diagram.lanes, "every shipped diagram assigns its work to roles through lanes"
    unplaced = sorted(n for n in diagram.nodes if diagram.lane(n) is None)
    assert not unplaced, f"flow nodes in no lane: {unplaced}"
    outside = [(node_id, diagram.lane(node_id)) for node_id in diagram.nodes
               if not diagram.shapes[diagram.lane(node_id)].contains(diagram.shapes[node_id])]
    assert not outside, f"shapes outside their lane: {outside}"
    escaped = [node_id for node_id in diagram.nodes if diagram.container(node_id)
               and not diagram.attached(node_id)
               and not diagram.shapes[diagram.container(node_id)].contains(diagram.shapes[node_id])]
    assert not escaped, f"shapes outside their sub-process: {escaped}"
    lane_shapes = [diagram.shapes[lane] for lane in diagram.lanes]
    for i, a in enumerate(lane_shapes):
        for b in lane_shapes[i + 1:]:
            assert not a.overlaps(b), f"{diagram.path.name}: lanes overlap"


def test_form_field_ids_do_not_reuse_element_ids(diagram: Diagram) -> None:
    """The engine's parser finds elements by id across the whole file, form fields included: a form field
    named like a task (a field `plan` on the task `plan`) makes the diagram fail to parse."""
    fields = {f.get("id") for f in diagram.process.iter(f"{{{NS['camunda']}}}formField")}
    assert not fields & set(diagram.nodes), f"form fields named like elements: {sorted(fields & set(diagram.nodes))}"


@pytest.mark.parametrize("folder", sorted({p.parent.name for p in DIAGRAMS}))
def test_bundle_deploys_through_validation(sqlite_db: Database, folder: str) -> None:
    deployed = deploy_process(sqlite_db, folder)
    assert deployed.version == 1
    for dmn in (PROCESSES / folder).glob("*.dmn"):
        tests = dmn.with_name(dmn.stem + ".tests.json")
        assert tests.exists(), f"{dmn.name} has no {tests.name}"
