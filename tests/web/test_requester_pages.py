"""The requester's own pages through the test client: the list of my records with what waits for me, one
record's next step, history and conversation, withdrawing."""

from __future__ import annotations

from flask.testing import FlaskClient

from engine.db.database import Database
from engine.services import conversation, instances
from tests.conftest import ALICE, BOB, IVAN
from tests.web.conftest import sign_in
from tests.web.support import INCIDENT, work


def test_my_records_and_a_record_page(client: FlaskClient, ui_db: Database) -> None:
    mine = instances.start(ui_db, IVAN, "response", {"summary": "Printer jams"}).business_key
    other = instances.start(ui_db, ALICE, "response", {"summary": "Alice's own"}).business_key
    work(ui_db, ALICE, mine, "record", INCIDENT)
    work(ui_db, BOB, mine, "restore", {"resolution": "cleared the jam"})  # now ivan is asked to confirm
    conversation.add_comment(ui_db, BOB, mine, "Roller replaced", "public")
    conversation.add_comment(ui_db, BOB, mine, "Vendor ticket 4711", "internal")
    token = sign_in(client, "ivan")
    assert client.get("/").headers["Location"] == "/my"
    html = client.get("/my").get_data(as_text=True)
    assert mine in html and other not in html
    assert 'id="your-turn"' in html and "Confirm with the user" in html
    page = client.get(f"/my/{mine}").get_data(as_text=True)
    assert "Waiting for you: Confirm with the user" in page
    assert "Roller replaced" in page and "Vendor ticket" not in page
    assert "“Restore service” done" in page and "cleared the jam" not in page.split('id="public-timeline"')[1]
    assert client.get(f"/my/{other}").status_code == 403
    assert client.post(f"/my/{mine}/withdraw", data={"csrf_token": token, "reason": ""},
                       follow_redirects=True).get_data(as_text=True).count("Not withdrawn") == 1
    done = client.post(f"/my/{mine}/withdraw", data={"csrf_token": token, "reason": "Works now"},
                       follow_redirects=True)
    text = done.get_data(as_text=True)
    assert f"{mine} is withdrawn." in text and "Withdrawn: Works now" in text and 'id="withdraw-form"' not in text
    assert client.post(f"/my/{mine}/withdraw", data={"reason": "no token"}).status_code == 403
    assert client.get("/my/INC-999999").status_code == 404


def test_a_requester_reads_a_public_history_on_record_and_task_pages(client: FlaskClient, ui_db: Database) -> None:
    from tests.web.support import open_task

    key = instances.start(ui_db, IVAN, "response", {"summary": "Printer jams"}).business_key
    work(ui_db, ALICE, key, "record", INCIDENT)
    work(ui_db, BOB, key, "restore", {"resolution": "cleared the jam"})
    conversation.add_comment(ui_db, BOB, key, "Vendor ticket 4711", "internal")
    sign_in(client, "ivan")
    for path in (f"/records/{key}", f"/tasks/{open_task(ui_db, key, 'confirm')['id']}"):
        html = client.get(path).get_data(as_text=True)
        history = html.split('class="timeline public"', 1)[1].split("</ol>", 1)[0]
        assert "decision.evaluated" not in history and "priority_r" not in history  # no rule evidence
        assert "cleared the jam" not in history and "Vendor ticket" not in history
        assert "flow_" not in history and "Restore service" in history
    sign_in(client, "bob")
    html = client.get(f"/records/{key}").get_data(as_text=True)
    assert 'class="timeline public"' not in html and "decision.evaluated" in html and "flow_" not in html.split(
        'class="timeline"', 1)[1].split("</ol>")[0].replace('data-element-id="flow', "")
