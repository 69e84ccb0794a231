"""The step's audit write on its lean path: the hash written out directly is canonical()'s, and the secret
fields of every deployed version follow a deployment at once, although they are kept between steps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.db.database import Database, unit_of_work
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
