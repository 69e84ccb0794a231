"""Every shipped process says who may start it directly and which start fields it accepts (issue 12, "Who may start
what"): through the HTTP API, a field it does not accept is refused by name with nothing started, and a role its
diagram does not name is refused with 403. Message starts (a change requesting its release, a review opening an
improvement) are the diagrams' own doors and are not concerned."""

from __future__ import annotations

import pytest

from engine.db.database import Database
from tests.api.conftest import Api
from tests.rights.conftest import ok, refused
from tests.support import deploy_process

STARTERS = {"triage": "ivan", "response": "ivan", "change": "carol", "release": "frank", "improvement": "ivan"}


def _count(api: Api) -> int:
    return len(ok(api.get("/instances?limit=500", "heidi"))["instances"])


@pytest.mark.parametrize("process", sorted(STARTERS))
def test_a_start_field_the_process_does_not_accept_is_refused_by_name(shipped: Api, db: Database,
                                                                        process: str) -> None:
    deploy_process(db, "improvement")
    before = _count(shipped)
    error = refused(shipped.post("/instances", STARTERS[process], json={"process": process, "data": {
        "requester": "ivan", "deployed": True, "smuggled": 1}}))
    assert {"deployed", "smuggled"} <= set(error["details"]["fields"])
    assert "not a start field" in error["details"]["fields"]["smuggled"]
    assert _count(shipped) == before


def test_a_release_is_started_directly_by_release_management_only(shipped: Api) -> None:
    denied = refused(shipped.post("/instances", "ivan", json={"process": "release", "data": {
        "title": "Mine", "changes": ["RFC-000001"]}}), 403)
    assert "release_manager" in denied["message"]
    started = ok(shipped.post("/instances", "frank", json={"process": "release", "data": {
        "title": "November platform release", "changes": []}}), 201)
    assert started["business_key"].startswith("REL-") and [t["element_id"] for t in started["tasks"]] == ["plan"]


def test_anyone_may_raise_an_improvement_with_its_start_fields(shipped: Api, db: Database) -> None:
    deploy_process(db, "improvement")
    started = ok(shipped.post("/instances", "ivan", json={"process": "improvement", "data": {
        "opportunity": "The VPN page is hard to find", "source": "feedback", "practice": "response"}}), 201)
    assert started["data"]["opportunity"] == "The VPN page is hard to find"
