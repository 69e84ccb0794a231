"""The processes page lists what the bundled processes propose; an owner reviews the diff and accepts or
dismisses it through the page's forms; the auditor reads it without the forms."""

from __future__ import annotations

from flask.testing import FlaskClient

from engine.db.database import Database
from engine.services import proposals, seeding
from engine.services.bundles import folder_bundle
from tests.support import OWNER, PROCESSES
from tests.web.conftest import sign_in


def _propose(db: Database) -> int:
    bundle = folder_bundle(PROCESSES / "response")  # the shipped response differs from the UI tests' copy
    assert bundle is not None
    result = seeding.seed_bundle(db, bundle, OWNER, "processes/response")
    assert result.action == "proposed" and result.proposal is not None
    return result.proposal


def test_the_owner_reviews_and_accepts_a_proposal(client: FlaskClient, ui_db: Database) -> None:
    number = _propose(ui_db)
    token = sign_in(client, "grace")
    page = client.get("/processes").get_data(as_text=True)
    assert f'id="proposal-{number}"' in page and "processes/response" in page
    review = client.get(f"/processes/proposals/{number}").get_data(as_text=True)
    assert "changes against v1" in review and 'id="accept-form"' in review
    assert "priority_r" in review or "sla" in review  # the shipped tables it brings are listed rule by rule

    resp = client.post(f"/processes/proposals/{number}/accept", data={"csrf_token": token, "comment": "go"})
    assert resp.status_code == 302
    listing = client.get("/processes").get_data(as_text=True)
    assert "Accepted proposal" in listing and 'id="proposals"' not in listing
    assert "<q class=\"deploy-comment\">go</q>" in listing
    again = client.post(f"/processes/proposals/{number}/accept", data={"csrf_token": token})
    assert again.status_code == 302 and "already accepted" in client.get(again.headers["Location"]).get_data(
        as_text=True)


def test_dismissing_needs_a_reason_and_the_auditor_only_reads(client: FlaskClient, ui_db: Database) -> None:
    number = _propose(ui_db)
    token = sign_in(client, "grace")
    resp = client.post(f"/processes/proposals/{number}/dismiss", data={"csrf_token": token, "reason": " "})
    assert "say why" in client.get(resp.headers["Location"]).get_data(as_text=True)
    client.post(f"/processes/proposals/{number}/dismiss", data={"csrf_token": token, "reason": "ours is better"})
    assert proposals.list_proposals(ui_db, OWNER, "dismissed")[0]["note"] == "ours is better"

    sign_in(client, "heidi")
    review = client.get(f"/processes/proposals/{number}").get_data(as_text=True)
    assert "Dismissed by grace" in review and 'id="accept-form"' not in review
    token = sign_in(client, "heidi")
    assert client.post(f"/processes/proposals/{number}/accept", data={"csrf_token": token}).status_code == 403
    assert client.get("/processes/proposals/999").status_code == 404
