"""The step's audit write on its lean path: the hash written out directly is canonical()'s, and the secret
fields of every deployed version follow a deployment at once, although they are kept between steps."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.db.database import Database, unit_of_work
from engine.db.models import AuditEvent
from engine.services import audit, instances
from tests.audit.test_admin import ROUTED, SECRET_FLOW, _events
from tests.conftest import IVAN
from tests.support import deploy_xml

AT = audit.at_text(datetime(2026, 12, 2, 1, 2, 3, 4, tzinfo=UTC))
TEXTS = ["plain", "", 'quote " and \\ backslash', "tab\t newline\n nul\x00 bell\x07", "é ü ß 中文 🙂",
         "\u2028\u2029 separators", "</script>", "null"]


@pytest.mark.parametrize("text", TEXTS)
def test_the_hash_written_out_is_canonicals(text: str) -> None:
    data_json = audit.canonical({"form": {"summary": text, "n": 1.5, "flag": True, "none": None}})
    for instance_id, element_id, element_name in ((7, text, text), (None, None, None), (2**40, "e", None)):
        body = audit.event_body(12345, datetime.fromisoformat(AT), text or "x", text or "t", instance_id,
                                element_id, element_name, data_json, 7 if instance_id is None else instance_id % 64,
                                99)
        expected = audit.chain_hash("ab" * 32, body)
        assert audit.event_hash("ab" * 32, 12345, AT, text or "x", text or "t", instance_id, element_id,
                                element_name, data_json, body["chain"], 99) == expected


def test_values_of_another_type_are_hashed_as_canonical_spells_them() -> None:
    # a bool is an int to Python but true to JSON; an id given as text stays text
    for instance_id, element_id in ((True, "e"), (3, 42)):
        body = {"seq": 1, "at": AT, "actor": "a", "type": "t", "instance_id": instance_id, "element_id": element_id,
                "element_name": None, "data": "{}", "chain": 3, "n": 1}
        assert audit.event_hash("0" * 64, 1, AT, "a", "t", instance_id, element_id, None, "{}", 3, 1) == (
            audit.chain_hash("0" * 64, body))


def test_a_field_made_secret_by_a_later_deployment_is_masked_in_start_data(db: Database) -> None:
    deploy_xml(db, ROUTED)
    before = instances.start(db, IVAN, "routed", {"escalate": False, "pin": "first"}).business_key
    assert _events(db, before, "instance.started")[0]["data"]["data"]["pin"] == "first"  # secret nowhere yet
    # another process declares pin secret
    deploy_xml(db, SECRET_FLOW.replace('<bpmn:sequenceFlow id="f2" sourceRef="n1" targetRef="n2"/>', ""))
    after = instances.start(db, IVAN, "routed", {"escalate": False, "pin": "second"}).business_key
    started = _events(db, after, "instance.started")[0]["data"]["data"]
    assert (started["pin"], started["escalate"]) == (audit.SECRET_MASK, False)
    with unit_of_work(db) as uow:
        assert audit.verify(uow).ok


def test_one_append_over_several_chains_reads_back_and_verifies(db: Database) -> None:
    texts = iter(TEXTS * 2)
    # chains 0, 3 (instances 3 and 67) and 2 (130): written in chain order, as one statement on PostgreSQL
    where = ((None, None, None), (3, "a", None), (67, None, "B"), (3, "c", "C"), (130, "é", "ü"))
    events = [audit.NewEvent("test.event", next(texts) or "x", instance_id, element_id, element_name,
                             {"t": next(texts)}) for instance_id, element_id, element_name in where]
    with unit_of_work(db) as uow:
        audit.append(uow, events, frozenset())
        uow.commit()
    with unit_of_work(db) as uow:
        stored = uow.session.execute(select(AuditEvent).where(AuditEvent.type == "test.event")
                                     .order_by(AuditEvent.seq)).scalars().all()
        by_chain = sorted(events, key=lambda e: 0 if e.instance_id is None else e.instance_id % 64)
        assert [(e.actor, e.instance_id, e.element_id, e.element_name, json.loads(e.data_json)) for e in stored] == [
            (e.actor, e.instance_id, e.element_id, e.element_name, e.data) for e in by_chain]
        assert len({e.at for e in stored}) == 1 and stored[0].at.tzinfo is not None
        assert audit.verify(uow).ok
