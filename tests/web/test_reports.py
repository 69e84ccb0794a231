"""The UI's read models (engine/services/reports.py), the version diff (engine/services/diffs.py) and the
server-drawn charts, tested as plain functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from engine.db.database import Database, unit_of_work
from engine.diagram.metadata import read_processes
from engine.diagram.xmlsafe import parse_xml
from engine.errors import BadRequest, NotAllowed
from engine.services import dashboard as measures
from engine.services import diffs, instances, reports, starting
from tests.conftest import ALICE, BOB, CAROL, GRACE, HEIDI, IVAN
from tests.support import deploy_xml
from tests.web.support import FIXTURES, closed_incident, seed_history
from web.ui import charts

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("due", "created", "state"), [
    (None, NOW, "none"),
    (NOW - timedelta(minutes=1), NOW - timedelta(hours=3), "overdue"),
    (NOW, NOW - timedelta(hours=3), "overdue"),
    (NOW + timedelta(minutes=50), NOW - timedelta(hours=1), "due-soon"),  # last hour
    (NOW + timedelta(hours=5), NOW - timedelta(hours=20), "due-soon"),  # last quarter of the window
    (NOW + timedelta(hours=5), NOW - timedelta(hours=1), "on-track"),
])
def test_sla_state(due: datetime | None, created: datetime, state: str) -> None:
    assert reports.sla_state(due, created, NOW) == state


def test_durations_median_and_p90() -> None:
    d = measures.Durations.of([timedelta(minutes=m) for m in (10, 1, 5, 7, 3, 2, 9, 4, 8, 6)])
    assert d.n == 10 and d.median == timedelta(minutes=5, seconds=30) and d.p90 == timedelta(minutes=9)
    assert measures.Durations.of([]).median is None
    assert measures.Ratio(1, 3).percent == 33.3 and measures.Ratio(0, 0).percent is None


def test_period() -> None:
    p = measures.Period.of(date(2026, 1, 1), date(2026, 1, 7))
    assert len(p.days) == 7 and p.end - p.start == timedelta(days=7)
    with pytest.raises(BadRequest):
        measures.Period.of(date(2026, 2, 1), date(2026, 1, 1))
    with pytest.raises(BadRequest):
        measures.Period.of(date(2024, 1, 1), date(2026, 1, 1))


def test_dashboard_measures(ui_db: Database) -> None:
    seeded = seed_history(ui_db)
    with unit_of_work(ui_db) as uow:
        board = measures.dashboard(uow, CAROL, measures.Period.of(None, None))
    assert board.resolve.n == len(seeded["closed"])
    assert board.respond.n == len(seeded["closed"]) + len(seeded["open"])
    assert board.resolve.median is not None and board.resolve.p90 is not None
    assert board.resolve.median <= board.resolve.p90
    assert board.reopened.of == len(seeded["closed"]) and 0 < board.reopened.count < board.reopened.of
    assert board.first_line.count == 0  # this version of response does not record resolved_first_line
    assert sum(n for _, n in board.open_by_priority) == len(seeded["open"])
    # The escalated task is still open and late after its SLA timer fired: it counts as overdue too.
    assert board.overdue_count == 2
    assert [t["business_key"] for t in board.overdue_tasks] == [seeded["escalated"], seeded["overdue"]]
    assert board.escalations == 1 and board.escalations_by_element == [("Two hours passed", 1)]
    assert sum(n for _, n in board.opened_per_day) == len(seeded["closed"]) + len(seeded["open"])
    with unit_of_work(ui_db) as uow, pytest.raises(NotAllowed):
        measures.dashboard(uow, BOB, measures.Period.of(None, None))


CHANGE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="change" name="Change (stub)" isExecutable="true">
    <bpmn:extensionElements><camunda:properties>
      <camunda:property name="dashboard_breakdown" value="change_class: standard, normal, emergency, major"/>
      <camunda:property name="dashboard_breakdown" value="approver: implementing_team, it_manager, cab"/>
      <camunda:property name="start.change.label" value="Request a change"/>
    </camunda:properties></bpmn:extensionElements>
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Change manager"><bpmn:flowNodeRef>s</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>assess</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="assess" name="Assess"><bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="e"><bpmn:incoming>b</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="assess"/>
    <bpmn:sequenceFlow id="b" sourceRef="assess" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_first_line_resolution_and_changes_are_read_from_the_data(ui_db: Database) -> None:
    closed_incident(ui_db, data={"resolved_first_line": True})
    closed_incident(ui_db)
    deploy_xml(ui_db, CHANGE)
    for cls, approver in (("normal", "cab"), ("standard", "implementing_team"), ("normal", "cab")):
        instances.start(ui_db, CAROL, "change", {"change_class": cls, "approver": approver})
    with unit_of_work(ui_db) as uow:
        board = measures.dashboard(uow, HEIDI, measures.Period.of(None, None))
        assert {o.ref: o.process for o in starting.options(uow)}["change"] == "change"
    assert board.first_line.count == 1 and board.first_line.of == 2 and board.first_line.percent == 50.0
    by_class, by_approver = board.breakdowns
    assert (by_class.process, by_class.field, by_class.total) == ("change", "change_class", 3)
    assert by_class.rows == [("standard", 1), ("normal", 2)]
    assert by_approver.rows == [("implementing_team", 1), ("cab", 2)]


def test_trail_and_catalogue_need_their_roles(ui_db: Database) -> None:
    with unit_of_work(ui_db) as uow:
        with pytest.raises(NotAllowed):
            reports.trail(uow, ALICE, reports.TrailFilter())
        with pytest.raises(NotAllowed):
            reports.verify_trail(uow, GRACE)
        with pytest.raises(NotAllowed):
            reports.catalogue(uow, ALICE)
        assert {p["key"] for p in reports.catalogue(uow, GRACE)["processes"]} == {"response", "long_form"}
    with pytest.raises(NotAllowed):
        reports.export_trail(ui_db, IVAN, reports.TrailFilter())  # refused at once, not when read


def test_inbox_refuses_the_all_tab_to_requesters(ui_db: Database) -> None:
    with unit_of_work(ui_db) as uow:
        assert reports.inbox_tabs(IVAN) == ["todo", "available", "mine"]
        assert reports.inbox_tabs(ALICE) == ["todo", "available", "mine", "all"]
        with pytest.raises(NotAllowed):
            reports.inbox(uow, IVAN, "all")


def test_start_options_follow_what_is_deployed(ui_db: Database) -> None:
    with unit_of_work(ui_db) as uow:
        assert [(o.ref, o.process) for o in starting.options(uow)] == [
            ("incident", "response"), ("request", "response"), ("question", "response")]


def _meta(text: str):  # type: ignore[no-untyped-def]
    return read_processes(parse_xml(text.encode()))["response"]


RESPONSE = (FIXTURES / "response" / "response.bpmn").read_text()


def test_diff_of_two_readings() -> None:
    edited = (RESPONSE
              .replace('<camunda:formField id="closure_note" label="Closure note" type="string" />',
                       '<camunda:formField id="closure_note" label="Closing note" type="string" />'
                       '<camunda:formField id="reopen" label="Reopen?" type="boolean" />')
              .replace('<bpmn:lane id="lane_resolver" name="Resolver">', '<bpmn:lane id="lane_resolver" name="Tech">')
              .replace("user_confirmed == True", "user_confirmed"))
    diff = diffs.compare("response", _meta(RESPONSE), read_processes(parse_xml(edited.encode()),
                                                                     {"Tech": "resolver"})["response"], 1, 2)
    changed = {e.id: [c.what for c in e.changes] for e in diff.changed}
    assert changed["close"] == ["form field reopen added", "form field closure_note: label"]
    assert changed["restore"] == ["lane"]  # same role, other lane
    assert changed["flow_confirmed"] == ["condition"]
    assert [c.what for c in diff.lanes] == ["lane removed: Resolver", "lane added: Tech"]
    assert not diff.added and not diff.removed and not diff.empty
    same = diffs.compare("response", _meta(RESPONSE), _meta(RESPONSE), 1, 2)
    assert same.empty
    fresh = diffs.compare("response", None, _meta(RESPONSE), None, 1)
    assert len(fresh.added) == 8 + 8 and not fresh.lanes  # every element and flow


def test_draft_diff_uses_the_deployed_lane_mapping(ui_db: Database) -> None:
    with unit_of_work(ui_db) as uow:
        diff = diffs.draft(uow, GRACE, "response", RESPONSE.encode())
        assert diff.empty and diff.base == 1 and diff.target == "draft"
        with pytest.raises(BadRequest):
            diffs.draft(uow, GRACE, "response", b"<nope")
        with pytest.raises(BadRequest):
            diffs.draft(uow, GRACE, "other", RESPONSE.encode())
        with pytest.raises(NotAllowed):
            diffs.draft(uow, HEIDI, "response", RESPONSE.encode())
        assert diffs.versions(uow, HEIDI, "response", 0, 1).to_dict()["added"]
        assert diffs.lane_mapping(uow, "response") == {"Service desk": "service_desk", "Resolver": "resolver",
                                                       "Requester": "requester"}


def test_charts_are_escaped_svg() -> None:
    svg = str(charts.bars([("<script>", 3), ("P1", 1)], "T & <b>"))
    assert svg.startswith('<svg class="chart chart-bars"') and "<script>" not in svg
    assert "&lt;script&gt;" in svg and "T &amp; &lt;b&gt;" in svg
    assert 'class="bar-row bar-P1"' in svg
    assert "chart-empty" in str(charts.bars([("a", 0)], "x"))
    columns = str(charts.columns([(date(2026, 1, d), d % 3) for d in range(1, 15)], "per day"))
    assert columns.count('class="col"') == 14 and "01-01" in columns
