"""Each deviation kind of issue 12 injected the way a bypass would really happen, through the HTTP API: a process
owner deploys a tailored table or diagram that lacks the control, or an administrator edits a record's data. A
record run that way is named by GET /audit/conformance with that kind; a record run cleanly is not."""

from __future__ import annotations

import io
import re
from typing import Any

from engine.db.database import Database
from engine.services import users
from tests.api.conftest import Api
from tests.rights.conftest import do, ok, record, task
from tests.rights.test_scenarios import _change, _conformance, _incident, root_cause_addressed
from tests.support import PROCESSES

WINDOW = {"change_window_start": "2026-12-05", "change_window_end": "2026-12-06"}


def _tailored_table(api: Api, key: str, edit: Any) -> int:
    """A process owner (grace) deploys an edited copy of a shipped table as the next version of `key`."""
    dmn = edit((PROCESSES / "change" / f"{key}.dmn").read_text())
    upload = {"dmn": (io.BytesIO(dmn.encode()), f"{key}.dmn"), "tests": "[]"}
    return int(ok(api.post(f"/decisions/{key}/versions", "grace", data=upload), 201)["version"])


def _tailored_change(api: Api, edit: Any) -> None:
    bpmn = edit((PROCESSES / "change" / "change.bpmn").read_text())
    upload = {"bpmn": (io.BytesIO(bpmn.encode()), "change.bpmn")}
    ok(api.post("/processes/change/versions", "grace", data=upload, content_type="multipart/form-data"), 201)


def _tailored_response(api: Api, edit: Any) -> None:
    bpmn = edit((PROCESSES / "response" / "response.bpmn").read_text())
    upload = {"bpmn": (io.BytesIO(bpmn.encode()), "response.bpmn")}
    ok(api.post("/processes/response/versions", "grace", data=upload, content_type="multipart/form-data"), 201)


def _emergency(api: Api, key: str, review: bool = True) -> None:
    """An emergency implemented at once, documented, then reviewed (and backed out when the review rejects it)."""
    do(api, "erin", key, "implement_emergency", {"implementation_note": "patched", "implemented": True})
    do(api, "erin", key, "document_emergency", {
        "change_window_start": "2026-11-25", "change_window_end": "2026-11-25", "backout_plan": "unpatch",
        "risk_likelihood": 2, "risk_impact": 2, "estimated_hours": 1, "users_affected": 10, "donor_facing": False})
    do(api, "carol", key, "pir", {"approved": review, "review_note": "justified" if review else "not justified"})
    if not review:
        do(api, "erin", key, "back_out", {"follow_up": "backed_out", "follow_up_note": "reverted"})
    assert ok(api.get(f"/instances/{key}", "heidi"))["status"] == "completed"


def _planned(api: Api, key: str, assessor: str = "erin", **facts: Any) -> None:
    do(api, assessor, key, "assess", {"assessment": "valid", "estimated_hours": 2, "users_affected": 10,
                                      "donor_facing": False, **facts})
    do(api, assessor, key, "schedule", WINDOW)
    do(api, assessor, key, "prepare", {"backout_plan": "restore", "risk_likelihood": 1, "risk_impact": 1})


def _released(api: Api, key: str) -> None:
    """What the release process does when it closes: release.deployed to the change."""
    do(api, "carol", key, "inform_stakeholders", {"stakeholders_informed": True, "communication_note": "told"})
    ok(api.post("/messages", "admin", json={"name": "release.deployed", "correlation": {"business_key": key},
                                            "data": {"changes": [key], "deployed": True, "rolled_back": False}}), 202)
    assert ok(api.get(f"/instances/{key}", "heidi"))["status"] == "completed"


def test_class_not_matching_facts_after_an_admin_edit_of_the_class(shipped: Api) -> None:
    api = shipped
    clean = _change(api, incident=_incident(api))
    _emergency(api, clean)
    edited = _change(api, incident=_incident(api))
    do(api, "erin", edited, "implement_emergency", {"implementation_note": "patched", "implemented": True})
    do(api, "erin", edited, "document_emergency", {
        "change_window_start": "2026-11-25", "change_window_end": "2026-11-25", "backout_plan": "unpatch",
        "risk_likelihood": 2, "risk_impact": 2, "estimated_hours": 1, "users_affected": 10, "donor_facing": False})
    ok(api.post(f"/instances/{edited}/data", "admin", json={"data": {"change_class": "standard"},
                                                            "reason": "it is routine really"}))
    do(api, "carol", edited, "pir", {"approved": True, "review_note": "fine"})
    assert record(api, edited)["change_class"] == "standard"
    found = _conformance(api, edited)
    [mismatch] = found["class_not_matching_facts"]
    assert mismatch["details"] == {"field": "change_class", "held": "standard", "decided": "emergency"}
    assert "data_edited" in found and _conformance(api, clean) == {}


def test_emergency_without_incident_under_a_tailored_class_table(shipped: Api) -> None:
    api = shipped
    clean = _change(api, incident=_incident(api))
    _emergency(api, clean)

    def any_change_is_an_emergency(dmn: str) -> str:
        dmn = dmn.replace('<inputEntry id="change_class_emergency_open"><text>true</text>',
                          '<inputEntry id="change_class_emergency_open"><text>-</text>')
        return dmn.replace('<inputEntry id="change_class_emergency_priority"><text>"P1","P2"</text>',
                           '<inputEntry id="change_class_emergency_priority"><text>-</text>')

    _tailored_table(api, "change_class", any_change_is_an_emergency)
    bypass = _change(api)  # no incident linked
    assert record(api, bypass)["change_class"] == "emergency" and task(api, bypass, "implement_emergency")
    _emergency(api, bypass)
    found = _conformance(api, bypass)
    assert list(found) == ["emergency_without_incident"]
    assert "incident is not given" in found["emergency_without_incident"][0]["message"]
    assert _conformance(api, clean) == {}


def test_rejected_review_reported_as_implemented_under_a_tailored_diagram(shipped: Api) -> None:
    api = shipped
    clean = _change(api, incident=_incident(api))
    _emergency(api, clean, review=False)
    assert record(api, clean)["implemented"] is False

    def keep_implemented(bpmn: str) -> str:
        edited = bpmn.replace("<bpmn:script>accepted = False\nimplemented = False</bpmn:script>",
                              "<bpmn:script>accepted = False</bpmn:script>")
        assert edited != bpmn
        return edited

    _tailored_change(api, keep_implemented)
    bypass = _change(api, incident=_incident(api))
    _emergency(api, bypass, review=False)
    assert (record(api, bypass)["approved"], record(api, bypass)["implemented"]) == (False, True)
    found = _conformance(api, bypass)
    assert list(found) == ["rejected_review_reported_as_implemented"]
    assert _conformance(api, clean) == {}


def test_donor_facing_without_sponsor_under_a_tailored_rights_table(shipped: Api) -> None:
    api = shipped
    clean = _change(api)
    _planned(api, clean, donor_facing=True)
    do(api, "stella", clean, "approve_sponsor", {"approved": True})
    _released(api, clean)

    def no_sponsor_rule(dmn: str) -> str:
        edited = re.sub(r'<rule id="decision_rights_r2">.*?</rule>\s*', "", dmn, flags=re.S)
        assert edited != dmn
        return edited

    _tailored_table(api, "decision_rights", no_sponsor_rule)
    bypass = _change(api)
    _planned(api, bypass, donor_facing=True)
    assert record(api, bypass)["approver"] == "it_manager"
    do(api, "carol", bypass, "approve_it_manager", {"approved": True})
    _released(api, bypass)
    found = _conformance(api, bypass)
    assert list(found) == ["donor_facing_without_sponsor"]
    assert "no completed approval by executive_sponsor" in found["donor_facing_without_sponsor"][0]["message"]
    assert _conformance(api, clean) == {}


def test_self_approval_by_the_assessor_during_a_lapse_of_the_duties_table(shipped: Api, db: Database) -> None:
    api = shipped
    users.add_user(db, "max", "demo", ["implementer", "change_manager"])  # two roles, as in scenario 2
    clean = _change(api)
    _planned(api, clean, assessor="max")
    do(api, "carol", clean, "approve_it_manager", {"approved": True})

    def assessors_may_approve(dmn: str) -> str:
        for relation in ("assessor", "routing_facts"):
            dmn = dmn.replace(f'<outputEntry id="sod_{relation}_may"><text>false</text>',
                              f'<outputEntry id="sod_{relation}_may"><text>true</text>')
        return dmn

    shipped_version = _tailored_table(api, "separation_of_duties", assessors_may_approve) - 1
    lapsed = _change(api)
    _planned(api, lapsed, assessor="max")
    do(api, "max", lapsed, "approve_it_manager", {"approved": True})  # the lapsed table lets the assessor approve
    ok(api.post(f"/decisions/separation_of_duties/versions/{shipped_version}/rollback", "grace",
                json={"comment": "the lapse is over"}), 201)
    found = _conformance(api, lapsed)
    [named] = found.pop("self_approval")
    assert found == {} and (named["details"]["relation"], named["actor"]) == ("assessor", "max")
    assert _conformance(api, clean) == {}


def test_approval_skipped_under_a_tailored_diagram_that_pre_approves_the_it_manager_s_changes(shipped: Api) -> None:
    api = shipped
    clean = _change(api)
    _planned(api, clean)
    do(api, "carol", clean, "approve_it_manager", {"approved": True})
    _released(api, clean)

    def pre_approve_small_changes(bpmn: str) -> str:
        edited = bpmn.replace('approver == "implementing_team"', 'approver in ("implementing_team", "it_manager")')
        edited = edited.replace('approver == "it_manager"', 'approver == "nobody"')
        assert edited.count('"nobody"') == 1
        return edited

    _tailored_change(api, pre_approve_small_changes)
    bypass = _change(api)
    _planned(api, bypass)
    assert record(api, bypass)["approver"] == "it_manager"  # the table still demands the IT manager
    _released(api, bypass)  # but nobody was asked
    found = _conformance(api, bypass)
    assert list(found) == ["approval_skipped"]
    assert found["approval_skipped"][0]["details"]["approver"] == "it_manager"
    assert _conformance(api, clean) == {}


def _p1_judged_immaterial(api: Api) -> str:
    key = _incident(api)
    do(api, "alice", key, "restore_first_line", {"resolution": "restarted", "resolved_first_line": True})
    do(api, "ivan", key, "confirm", {"user_confirmed": True})
    do(api, "alice", key, "assess_impact", {"material_impact": False})
    return key


def test_high_priority_closed_without_root_cause_under_a_tailored_diagram(shipped: Api) -> None:
    api = shipped
    clean = _p1_judged_immaterial(api)
    root_cause_addressed(api, clean)
    do(api, "alice", clean, "close", {"closure_note": "fixed for good"})

    def only_the_desk_decides(bpmn: str) -> str:
        edited = bpmn.replace("material_impact == True or root_cause_required == True", "material_impact == True")
        assert edited != bpmn
        return edited

    _tailored_response(api, only_the_desk_decides)
    bypass = _p1_judged_immaterial(api)
    assert record(api, bypass)["root_cause_required"] is True  # the table still requires it
    do(api, "alice", bypass, "close", {"closure_note": "fine now"})  # but the diagram let it close
    assert ok(api.get(f"/instances/{bypass}", "heidi"))["status"] == "completed"
    found = _conformance(api, bypass)
    assert list(found) == ["high_priority_closed_without_root_cause"]
    assert "root_cause is not given" in found["high_priority_closed_without_root_cause"][0]["message"]
    assert _conformance(api, clean) == {}
