"""Rows kept in step with each record's data, which a step writes only when what they derive from changed: the
service index (record_service, which the impact view asks) is set at the start, changed and dropped by later
steps; it and the record's parties follow a migration to a version that derives them from other fields. On
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from engine.db.cmdb import RecordService, RecordWindow
from engine.db.database import Database, unit_of_work
from engine.db.models import ProcessInstance
from engine.services import instances, migration, parties
from tests.bpmn_snippets import chain, field, script_task, user_task
from tests.conftest import ALICE, IVAN
from tests.support import OWNER, deploy_xml, do

PROPS = '<bpmn:extensionElements><camunda:properties>{}</camunda:properties></bpmn:extensionElements>'


def process(service_field: str | None = None, requester_field: str | None = None) -> str:
    """A step that may name the service (in either of two fields), one that may clear it (by a script), a last."""
    form = field("service") + field("other_service")
    clear = field("clear", "boolean", default="false")
    xml = chain("p", [user_task(0, fields=form), user_task(1, fields=clear),
                      script_task(2, "service = None if clear else service"), user_task(3)])
    props = "".join(f'<camunda:property name="{name}" value="{value}"/>' for name, value in (
        ("service_field", service_field), ("requester_field", requester_field)) if value)
    if props:
        xml = xml.replace('isExecutable="true">', 'isExecutable="true">' + PROPS.format(props), 1)
    return xml


def index(db: Database) -> dict[str, str]:
    with unit_of_work(db) as uow:
        rows = uow.session.execute(select(ProcessInstance.business_key, RecordService.service_id)
                                   .join(RecordService, RecordService.instance_id == ProcessInstance.id))
        return {key: service for key, service in rows}


def test_the_service_follows_the_record_step_by_step(db: Database) -> None:
    deploy_xml(db, process())
    named = instances.start(db, IVAN, "p", {"service": "  email "}).business_key
    unnamed = instances.start(db, IVAN, "p", {"service": ""}).business_key
    assert index(db) == {named: "email"}  # as the data says it, trimmed; a record naming none has no row

    do(db, ALICE, named, "n0", {"service": "payroll", "other_service": "files"})
    do(db, ALICE, unnamed, "n0", {"service": "files"})  # named by a later step
    assert index(db) == {named: "payroll", unnamed: "files"}

    do(db, ALICE, named, "n1", {"clear": False})  # a step that leaves the service alone
    do(db, ALICE, unnamed, "n1", {"clear": True})  # the script then clears it
    assert index(db) == {named: "payroll"}
    do(db, ALICE, named, "n3")
    assert index(db) == {named: "payroll"}  # a closed record keeps its row (the impact view asks for open ones)


def test_a_migration_to_a_version_with_another_service_field_moves_the_service(db: Database) -> None:
    deploy_xml(db, process())
    key = instances.start(db, IVAN, "p", {"service": "email", "other_service": "payroll"}).business_key
    deploy_xml(db, process(service_field="other_service"))
    assert index(db) == {key: "email"}

    moved = migration.apply(db, OWNER, migration.parse_request("p", {"from_version": 1, "to_version": 2}),
                            "the service moved to its own field")
    assert moved["moved"] == [key]
    assert index(db) == {key: "payroll"}  # the data did not change; what names the service did
    do(db, ALICE, key, "n0", {"other_service": "files"})
    assert index(db) == {key: "files"}


def test_a_migration_to_a_version_with_another_requester_field_moves_the_parties(db: Database) -> None:
    deploy_xml(db, process())
    key = instances.start(db, IVAN, "p", {"customer": "bob"}).business_key
    deploy_xml(db, process(requester_field="customer"))
    assert parties_of(db, key) == {"ivan"}  # the starter, and the requester and reporter it defaulted to

    migration.apply(db, OWNER, migration.parse_request("p", {"from_version": 1, "to_version": 2}), "customers")
    assert parties_of(db, key) == {"ivan", "bob"}


def parties_of(db: Database, key: str) -> set[str]:
    with unit_of_work(db) as uow:
        found = uow.session.execute(select(ProcessInstance.id).where(ProcessInstance.business_key == key)).scalar_one()
        return parties.requesters(uow, found)


def windowed() -> str:
    """A record with a window (what the change calendar shows): a step that may approve or move it, a last."""
    form = field("window_start") + field("window_end") + field("approved", "boolean", default="false")
    prop = '<camunda:property name="window_fields" value="window_start, window_end"/>'
    xml = chain("w", [user_task(0, fields=form), user_task(1)])
    return xml.replace('isExecutable="true">', 'isExecutable="true">' + PROPS.format(prop), 1)


def calendar(db: Database) -> dict[str, tuple[Any, ...]]:
    with unit_of_work(db) as uow:
        rows = uow.session.execute(select(RecordWindow.business_key, RecordWindow.starts_at, RecordWindow.ends_at,
                                          RecordWindow.approved, RecordWindow.status))
        return {key: tuple(rest) for key, *rest in rows}


def test_the_window_follows_the_record_and_its_status(db: Database) -> None:
    deploy_xml(db, windowed())
    window = {"window_start": "2026-12-05T22:00:00Z", "window_end": "2026-12-06"}
    kept = instances.start(db, IVAN, "w", window).business_key
    moved = instances.start(db, IVAN, "w", window).business_key
    night, day_after = datetime(2026, 12, 5, 22, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC)
    assert calendar(db) == {kept: (night, day_after, False, "running"), moved: (night, day_after, False, "running")}

    do(db, ALICE, kept, "n0", {"approved": True})
    do(db, ALICE, moved, "n0", {"window_end": "2026-12-01"})  # ends before it starts: no window to show
    assert calendar(db) == {kept: (night, day_after, True, "running")}
    do(db, ALICE, kept, "n1")
    assert calendar(db) == {kept: (night, day_after, True, "completed")}
