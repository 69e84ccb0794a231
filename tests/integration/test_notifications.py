"""Notifications end to end: events write notifications and mail into the outbox inside their own step, the
worker sends the outbox through a real SMTP server (aiosmtpd on 127.0.0.1), a mail server that is down only
delays the mail, and each person's choices and the organisation's templates are honoured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from engine.db.database import Database, unit_of_work
from engine.db.models_desk import MailOutbox
from engine.services import audit, conversation, instances, notifications, notify_sweeps, timers, users
from engine.services.actors import Actor
from tests.bpmn_snippets import chain, user_task
from tests.conftest import ADMIN, ALICE, BOB, IVAN
from tests.mail_support import DESK, DOMAIN, Received, SmtpServer, configure, free_port
from tests.support import deploy_xml, do, events, task_for

ASSIGNED = chain("assigned", [
    user_task(0, props='<camunda:property name="x" value="y"/>', name="Look at it").replace(
        'camunda:candidateGroups="service_desk"', 'camunda:candidateGroups="resolver" camunda:assignee="${owner}"'),
    user_task(1, role="change_manager", name="Approve it",
              props='<camunda:property name="approval" value="true"/>'),
    user_task(2, role="requester", name="Confirm it works",
              props='<camunda:property name="notification" value="record_resolved"/>').replace(
        'camunda:candidateGroups="requester"', 'camunda:candidateGroups="requester" camunda:assignee="${reporter}"'),
])
TIMED = chain("timed", [user_task(0, name="Respond")], extra=(
    '<bpmn:boundaryEvent id="sla" attachedToRef="n0" cancelActivity="false"><bpmn:timerEventDefinition>'
    '<bpmn:timeDuration>PT4H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
    '<bpmn:endEvent id="late"/><bpmn:sequenceFlow id="e1" sourceRef="sla" targetRef="late"/>'))

@pytest.fixture
def people(db: Database) -> Database:
    users.seed_demo_users(db)
    return db


def _notes(db: Database, who: Actor) -> list[dict]:  # type: ignore[type-arg]
    with unit_of_work(db) as uow:
        return notifications.listing(uow, who)[0]


def _outbox(db: Database) -> list[MailOutbox]:
    with unit_of_work(db) as uow:
        return list(uow.session.execute(select(MailOutbox).order_by(MailOutbox.id)).scalars())


def test_assignment_approval_resolution_reach_people_by_mail(people: Database, smtp: SmtpServer) -> None:
    db = people
    deploy_xml(db, ASSIGNED)
    key = instances.start(db, IVAN, "assigned", {"owner": "bob", "reporter": "ivan",
                                                 "summary": "Printer jams"}).business_key
    [note] = _notes(db, BOB)
    assert note["kind"] == "task_assigned" and key in note["subject"] and note["link"].startswith("/tasks/")
    assert notify_sweeps.run_once(db, sweeps=False)["mail_sent"] == 1
    smtp.received.wait_for(1)
    [mail] = smtp.received.to(f"bob@{DOMAIN}")
    assert mail["From"] == DESK and f"[{key}]" in mail["Subject"]
    assert "http://itsm.example.test/tasks/" in mail.get_content() and "Printer jams" in mail.get_content()

    do(db, BOB, key, "n0")  # the approval is offered to every change manager
    carol = Actor("carol", frozenset({"change_manager"}))
    approvals = [n for n in _notes(db, carol) if n["kind"] == "approval_requested"]
    assert len(approvals) == 1 and "Approve it" in approvals[0]["subject"]
    do(db, Actor("carol", frozenset({"change_manager"})), key, "n1")
    resolved = [n for n in _notes(db, IVAN) if n["kind"] == "record_resolved"]
    assert len(resolved) == 1 and resolved[0]["link"] == f"/tasks/{task_for(db, key, 'n2')['id']}"
    notify_sweeps.run_once(db, sweeps=False)
    smtp.received.wait_for(3)
    assert [m["Subject"] for m in smtp.received.to(f"ivan@{DOMAIN}")] == [f"[{key}] {key} is resolved: please confirm"]
    assert all(row.status == "sent" and row.attempts == 1 for row in _outbox(db))


def test_mail_server_down_delays_mail_and_never_fails_the_step(people: Database,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    db = people
    port = free_port()
    configure(monkeypatch, port)  # nothing listens there yet
    deploy_xml(db, ASSIGNED)
    key = instances.start(db, IVAN, "assigned", {"owner": "bob", "reporter": "ivan"}).business_key
    assert task_for(db, key, "n0")["assignee"] == "bob"  # the step went through
    result = notify_sweeps.run_once(db, sweeps=False)
    assert result == {"sla": 0, "digests": 0, "mail_sent": 0, "mail_failed": 1}
    [row] = _outbox(db)
    assert row.status == "pending" and row.attempts == 1 and "cannot reach the mail server" in (row.last_error or "")
    assert notify_sweeps.run_once(db, sweeps=False)["mail_failed"] == 0  # not due again yet: it waits a minute
    server = SmtpServer(port, Received(), None)
    server.start()
    try:
        with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2), tick=False):
            assert notify_sweeps.run_once(db, sweeps=False)["mail_sent"] == 1
        server.received.wait_for(1)
        assert len(server.received.to(f"bob@{DOMAIN}")) == 1
    finally:
        server.stop()
    [row] = _outbox(db)
    assert row.status == "sent" and row.attempts == 2


def test_preferences_switch_off_each_kind_per_channel(people: Database, smtp: SmtpServer) -> None:
    db = people
    deploy_xml(db, ASSIGNED)
    notifications.set_preferences(db, BOB, {"task_assigned": {"in_app": True, "email": False}})
    instances.start(db, IVAN, "assigned", {"owner": "bob", "reporter": "ivan"})
    assert len(_notes(db, BOB)) == 1 and _outbox(db) == []
    notifications.set_preferences(db, BOB, {"task_assigned": {"in_app": False, "email": False}})
    instances.start(db, IVAN, "assigned", {"owner": "bob", "reporter": "ivan"})
    assert len(_notes(db, BOB)) == 1 and _outbox(db) == []
    with unit_of_work(db) as uow:
        prefs = {p["kind"]: p for p in notifications.preferences(uow, BOB)}
    assert prefs["task_assigned"]["in_app"] is False and prefs["comment_added"]["email"] is True


def test_templates_are_editable_and_keep_the_reference(people: Database, smtp: SmtpServer) -> None:
    db = people
    deploy_xml(db, ASSIGNED)
    with pytest.raises(Exception, match="only admin may"):
        notifications.set_template(db, BOB, "task_assigned", "x", "y")
    notifications.set_template(db, ADMIN, "task_assigned", "Work for you: $task", "Dear $name, see $link")
    key = instances.start(db, IVAN, "assigned", {"owner": "bob", "reporter": "ivan"}).business_key
    [note] = _notes(db, BOB)
    assert note["subject"] == f"[{key}] Work for you: Look at it"
    assert note["body"].startswith("Dear bob, see http://itsm.example.test/tasks/")
    changed = [e for e in _trail(db) if e["type"] == "notification.template_changed"]
    assert changed and changed[-1]["data"]["kind"] == "task_assigned"
    notifications.set_template(db, ADMIN, "task_assigned", "", "")  # back to the default
    with unit_of_work(db) as uow:
        row = next(t for t in notifications.templates(uow, ADMIN) if t["kind"] == "task_assigned")
    assert row["customised"] is False


def _trail(db: Database) -> list[dict]:  # type: ignore[type-arg]
    with unit_of_work(db) as uow:
        from engine.db.models import AuditEvent

        return [audit.event_view(e) for e in uow.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()]


def test_sla_warning_then_the_boundary_timer_tells_the_breach_once(people: Database, smtp: SmtpServer) -> None:
    db = people
    deploy_xml(db, TIMED)
    key = instances.start(db, IVAN, "timed", {"summary": "Slow VPN"}).business_key
    alice = Actor("alice", frozenset({"service_desk"}))
    assert _notes(db, alice) == []
    now = datetime.now(UTC)
    with time_machine.travel(now + timedelta(hours=3, minutes=30), tick=False):
        assert notify_sweeps.sla_sweep(db) == 1  # alice is the only service desk person
        assert notify_sweeps.sla_sweep(db) == 0  # told once
    assert [n["kind"] for n in _notes(db, alice)] == ["sla_warning"]
    with time_machine.travel(now + timedelta(hours=4, minutes=1), tick=False):
        assert timers.fire_due(db).instances == 1  # the SLA boundary timer fires: the breach is told
        assert notify_sweeps.sla_sweep(db) == 0
    kinds = [n["kind"] for n in _notes(db, alice)]
    assert kinds == ["sla_breached", "sla_warning"]
    assert "Respond" in _notes(db, alice)[0]["subject"] and key in _notes(db, alice)[0]["subject"]
    assert [e["type"] for e in events(db, key, "timer.fired")] == ["timer.fired"]


def test_role_digest_lists_new_work_since_the_last_one(people: Database, smtp: SmtpServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    db = people
    monkeypatch.setenv("ITSMFLOW_DIGEST_MINUTES", "60")
    deploy_xml(db, TIMED)
    notify_sweeps.digests(db)  # the first round starts counting
    start = datetime.now(UTC)
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        keys = [instances.start(db, IVAN, "timed", {}).business_key for _ in range(3)]
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        assert notify_sweeps.digests(db) == 0  # not an hour yet
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert notify_sweeps.digests(db) == 1  # alice (service desk); nobody else has new work
        assert notify_sweeps.digests(db) == 0
    [digest] = [n for n in _notes(db, ALICE) if n["kind"] == "role_digest"]
    assert digest["subject"] == "3 new task(s) for your roles"
    assert all(k in digest["body"] for k in keys)


def test_comment_on_your_record_tells_the_requester_not_the_author(people: Database, smtp: SmtpServer) -> None:
    db = people
    deploy_xml(db, TIMED)
    key = instances.start(db, IVAN, "timed", {"summary": "Slow VPN"}).business_key
    conversation.add_comment(db, ALICE, key, "We are looking at it.")
    conversation.add_comment(db, ALICE, key, "Router firmware suspected", "internal")
    notes = _notes(db, IVAN)
    assert [n["kind"] for n in notes] == ["comment_added"]  # the internal note is not told to the requester
    assert "We are looking at it." in notes[0]["body"]
    assert _notes(db, ALICE) == []
