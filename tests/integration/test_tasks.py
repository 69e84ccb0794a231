"""Human tasks: inbox scopes, claim / unclaim, forms validated and typed, 403 / 409 / 422, separation of duties."""

from __future__ import annotations

import pytest

from engine.db.database import Database, unit_of_work
from engine.errors import Conflict, NotAllowed, ValidationFailed
from engine.services import instances, tasks
from tests.bpmn_snippets import chain, constraint, field, user_task
from tests.conftest import ALICE, BOB, CAROL, HEIDI, IVAN
from tests.support import deploy_xml, instance, task_for

FORM = (field("summary", "string", constraint("required") + constraint("maxlength", "20"))
        + field("hours", "long", constraint("min", "1") + constraint("max", "40"))
        + field("critical", "boolean")
        + field("due", "date")
        + field("impact", "enum", constraint("required"), '<camunda:value id="high" name="High"/>'
                '<camunda:value id="low" name="Low"/>', default="low")
        + field("ref", "string", constraint("readonly")))


def _inbox(db: Database, actor, scope: str = "available") -> list[str]:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as uow:
        return [t.business_key for t in tasks.list_tasks(uow, actor, scope)]


def test_inbox_scopes_and_claiming(db: Database) -> None:
    deploy_xml(db, chain("p", [user_task(0, "service_desk")]))
    key = instances.start(db, IVAN, "p", {}).business_key
    task_id = task_for(db, key, "n0")["id"]
    assert key in _inbox(db, ALICE) and key not in _inbox(db, BOB)
    with pytest.raises(NotAllowed):
        tasks.claim(db, BOB, task_id)
    tasks.claim(db, ALICE, task_id)
    assert key in _inbox(db, ALICE, "mine") and key not in _inbox(db, ALICE, "available")
    other = type(ALICE)("zoe", ALICE.roles)
    with pytest.raises(Conflict):
        tasks.claim(db, other, task_id)
    with pytest.raises(NotAllowed):
        tasks.complete(db, other, task_id, {})
    with pytest.raises(Conflict):
        tasks.unclaim(db, other, task_id)
    tasks.unclaim(db, ALICE, task_id)
    assert key in _inbox(db, ALICE) and key in _inbox(db, HEIDI, "all")
    with pytest.raises(NotAllowed):
        _inbox(db, IVAN, "all")


def test_form_values_are_validated_and_typed(db: Database) -> None:
    deploy_xml(db, chain("p", [user_task(0, fields=FORM)]))
    key = instances.start(db, IVAN, "p", {"ref": "original"}).business_key
    task_id = task_for(db, key, "n0")["id"]
    with pytest.raises(ValidationFailed) as info:
        tasks.complete(db, ALICE, task_id, {"summary": "x" * 21, "hours": "many", "critical": "perhaps",
                                            "due": "31/12/2026", "impact": "extreme"})
    fields = info.value.details["fields"]
    assert set(fields) == {"summary", "hours", "critical", "due", "impact"}
    with pytest.raises(ValidationFailed) as info:
        tasks.complete(db, ALICE, task_id, {"hours": 99})
    # A yes/no with no earlier answer and no declared default is never answered by silence.
    assert set(info.value.details["fields"]) == {"summary", "hours", "critical", "impact"}
    good = {"summary": " Printer ", "hours": "4", "critical": "true", "due": "2026-12-31", "impact": "high"}
    with pytest.raises(ValidationFailed) as info:  # a key the form does not declare is refused by name
        tasks.complete(db, ALICE, task_id, {**good, "unknown": "dropped?"})
    assert set(info.value.details["fields"]) == {"unknown"}
    result = tasks.complete(db, ALICE, task_id, {**good, "ref": "forged"})  # a read-only field is not written
    data = result["instance"]["data"]
    assert data["summary"] == "Printer" and data["hours"] == 4 and data["critical"] is True
    assert data["due"] == "2026-12-31" and data["impact"] == "high"
    assert data["ref"] == "original" and "unknown" not in data


def test_task_completed_twice_gets_a_conflict(db: Database) -> None:
    deploy_xml(db, chain("p", [user_task(0), user_task(1)]))
    key = instances.start(db, IVAN, "p", {}).business_key
    task_id = task_for(db, key, "n0")["id"]
    tasks.complete(db, ALICE, task_id, {})
    with pytest.raises(Conflict):
        tasks.complete(db, ALICE, task_id, {})


def test_requester_may_not_approve_their_own_record(db: Database) -> None:
    approval = user_task(0, "change_manager", props='<camunda:property name="approval" value="true"/>')
    deploy_xml(db, chain("p", [approval]))
    own = instances.start(db, CAROL, "p", {}).business_key
    with pytest.raises(NotAllowed) as info:
        tasks.complete(db, CAROL, task_for(db, own, "n0")["id"], {})
    assert "separation of duties" in info.value.message
    other = instances.start(db, IVAN, "p", {"requester": "ivan"}).business_key
    assert tasks.complete(db, CAROL, task_for(db, other, "n0")["id"], {})["instance"]["status"] == "completed"


def test_task_view_has_form_and_data(db: Database) -> None:
    deploy_xml(db, chain("p", [user_task(0, fields=FORM)]))
    key = instances.start(db, IVAN, "p", {"summary": "from start"}).business_key
    with unit_of_work(db) as uow:
        view = tasks.get(uow, ALICE, task_for(db, key, "n0")["id"])
        with pytest.raises(NotAllowed):
            tasks.get(uow, BOB, view["id"])
    assert [f["id"] for f in view["form"]] == ["summary", "hours", "critical", "due", "impact", "ref"]
    impact = view["form"][4]
    assert impact["options"] == [{"id": "high", "name": "High"}, {"id": "low", "name": "Low"}]
    assert impact["default"] == "low" and impact["required"] and view["data"]["summary"] == "from start"
    assert instance(db, key)["tasks"][0]["roles"] == ["service_desk"]
