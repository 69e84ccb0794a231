"""The conversation on a record, notifications and held mail in a real browser, at desktop and phone widths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.services import instances, mail_in
from tests.browser.conftest import Live, shot, sign_in, sign_out
from tests.conftest import IVAN
from tests.integration.test_mail_in import mail

PHONE = {"width": 375, "height": 812}


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"the page is {width}px wide"


def test_desk_and_requester_talk_on_a_record(page: Any, live: Live, tmp_path: Path) -> None:
    key = instances.start(live.db, IVAN, "response", {"summary": "Scanner sends blank pages"}).business_key
    sign_in(page, "alice")
    page.goto(f"/records/{key}")
    page.fill("#comment-body", "Which scanner, and since when?")
    page.click("#comment-form button[type=submit]")
    page.wait_for_selector(".flash-ok")
    page.fill("#comment-body", "Firmware 2.1 has this bug; update planned")
    page.check("#comment-form input[value=internal]")
    log = tmp_path / "scanner.log"
    log.write_text("2026-12-01 09:00 scan: blank page\n")
    page.set_input_files("#comment-files", str(log))
    page.click("#comment-form button[type=submit]")
    page.wait_for_selector(".comment.vis-internal")
    assert page.locator(".comment").count() == 2
    shot(page, "record-conversation", full_page=False, clip=_clip(page, "#conversation"))
    sign_out(page)

    sign_in(page, "ivan")
    assert page.inner_text("#notes-link .notes-count") == "1"
    page.click("#notes-link")
    page.wait_for_selector("#notes .note.unread")
    assert f"[{key}] New comment on {key}" in page.inner_text("#notes")
    page.click("#notes .note-open")
    page.wait_for_url(f"**/records/{key}")
    assert page.locator(".comment").count() == 1  # the internal note and its file are not shown
    assert "Firmware" not in page.content()
    page.fill("#comment-body", "The one on floor 2, since Monday.")
    page.click("#comment-form button[type=submit]")
    page.wait_for_selector(".flash-ok")
    assert page.locator(".comment").count() == 2
    assert page.locator("#notes-link .notes-count").count() == 0

    page.set_viewport_size(PHONE)
    page.goto(f"/records/{key}#conversation")
    page.wait_for_selector("#conversation")
    shot(page, "record-conversation-phone", full_page=False)
    page.goto("/notifications")
    page.uncheck("#comment_added-email")
    page.click("#preferences-form button[type=submit]")
    page.wait_for_selector(".flash-ok")
    assert not page.is_checked("#comment_added-email") and page.is_checked("#comment_added-in_app")
    shot(page, "notifications-phone", full_page=True)


def test_the_desk_decides_on_mail_from_strangers(page: Any, live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITSMFLOW_MAILIN_PROCESS", "response")
    mail_in.receive(live.db, mail("olga@partner.example", "Portal login fails", "Error 500 after the password"), [])
    mail_in.receive(live.db, mail("noreply@ads.example", "Win a cruise", "Click here"), [])
    sign_in(page, "alice")
    page.click("nav.main-nav >> text=Mail in")
    page.wait_for_selector("#held-mail")
    assert page.locator(".mail-card").count() == 2
    shot(page, "mail-in")
    page.click(".mail-card:has-text('Win a cruise') button:has-text('Reject')")
    page.wait_for_selector(".flash-ok")
    page.click(".mail-card:has-text('Portal login') button:has-text('Raise a record')")
    page.wait_for_selector(".flash-ok")
    assert "raised as INC-" in page.inner_text(".flash-ok")
    assert "No mail waits" in page.inner_text("main")
    page.set_viewport_size(PHONE)
    page.reload()
    _no_sideways_scroll(page)


def test_admin_edits_a_notification_template(page: Any, live: Live) -> None:
    sign_in(page, "admin")
    page.goto("/notifications/templates")
    page.fill("#comment_added-subject", "$author wrote on $business_key")
    page.click("#t-comment_added button:has-text('Save')")
    page.wait_for_selector(".flash-ok")
    assert page.input_value("#comment_added-subject") == "$author wrote on $business_key"
    assert "customised" in page.inner_text("#t-comment_added h2")
    shot(page, "notification-templates", clip=_clip(page, "#t-comment_added"))


def _clip(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).bounding_box()
    return {"x": 0, "y": max(box["y"] - 10, 0), "width": page.viewport_size["width"],
            "height": min(box["height"] + 20, 1400)}


def test_the_browsers_audit_export_verifies_offline(page: Any, live: Live, tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.web.support import closed_incident

    closed_incident(live.db)
    sign_in(page, "heidi")
    page.goto("/audit")
    with page.expect_download() as download:
        page.click("#export-bundle")
    bundle = tmp_path / "bundle.jsonl"
    download.value.save_as(bundle)
    first = bundle.read_text().splitlines()[0]
    assert '"kind":"header"' in first.replace(" ", "") and "itsmflow-audit-bundle" in first
    root = Path(__file__).resolve().parents[2]
    checked = subprocess.run([sys.executable, "-m", "web.cli", "audit", "verify-bundle", str(bundle)], cwd=root,
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
    assert '"ok": true' in checked.stdout
    bundle.write_text(bundle.read_text().replace('"actor":"bob"', '"actor":"eve"', 1))
    tampered = subprocess.run([sys.executable, "-m", "web.cli", "audit", "verify-bundle", str(bundle)], cwd=root,
                              capture_output=True, text=True, timeout=120)
    assert tampered.returncode == 1 and "does NOT verify" in tampered.stderr


def test_the_modeller_says_it_needs_a_wider_screen_on_a_phone(page: Any, live: Live) -> None:
    sign_in(page, "grace")
    page.set_viewport_size(PHONE)
    page.goto("/processes/response/modeller")
    page.wait_for_selector("#needs-wider:not([hidden])")
    assert "needs a wider screen" in page.inner_text("#needs-wider")
    assert page.locator("#canvas svg").count() == 0  # nothing was started in a space it cannot use
    _no_sideways_scroll(page)
    shot(page, "modeller-phone")
    page.set_viewport_size({"width": 1280, "height": 800})  # turned sideways on a tablet, or a wider window
    page.wait_for_selector("#modeller-root[data-ready=true]")
    assert page.is_hidden("#needs-wider")
    assert page.locator("g.djs-element[data-element-id=restore]").count() == 1


def test_a_requester_follows_and_confirms_his_record_on_a_phone(page: Any, live: Live, tmp_path: Path) -> None:
    from tests.conftest import ALICE, BOB
    from tests.web.support import INCIDENT, work

    key = instances.start(live.db, IVAN, "response", {"summary": "Printer on floor 3 jams"}).business_key
    older = instances.start(live.db, IVAN, "response", {"summary": "Need a second screen"}).business_key
    work(live.db, ALICE, key, "record", INCIDENT)
    work(live.db, BOB, key, "restore", {"resolution": "Replaced the roller"})
    page.set_viewport_size(PHONE)
    sign_in(page, "ivan")
    assert page.url.endswith("/my")
    assert page.locator("#my-records .my-card").count() == 2
    assert "Confirm with the user" in page.inner_text("#your-turn")
    _no_sideways_scroll(page)
    shot(page, "my-requests-phone", full_page=True)

    page.click(f"#my-records .my-card[data-business-key='{older}'] a.key")
    page.wait_for_selector("#next-step")
    page.fill("#withdraw-reason", "Got one from a colleague")
    page.click("#withdraw-form button[type=submit]")
    page.wait_for_selector(".flash-ok")
    assert "Withdrawn: Got one from a colleague" in page.inner_text("#public-timeline")

    page.goto(f"/my/{key}")
    page.fill("#comment-body", "Thanks, I will try it this afternoon.")
    shot_file = tmp_path / "jam.png"
    shot_file.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    page.set_input_files("#comment-files", str(shot_file))
    page.click("#comment-form button[type=submit]")
    page.wait_for_selector(".flash-ok")
    page.goto(f"/my/{key}")
    assert "jam.png" in page.inner_text("#conversation")
    assert "“Restore service” done" in page.inner_text("#public-timeline")
    _no_sideways_scroll(page)
    shot(page, "my-record-phone", full_page=True)
    page.click("#next-step a.button")  # his confirmation task
    page.wait_for_selector("h1:has-text('Confirm with the user')")
    _no_sideways_scroll(page)
    shot(page, "task-form-phone", full_page=True)
    page.check("#f-user_confirmed input[value=true]")
    page.click("#task-form button[type=submit]")
    page.wait_for_selector(".flash-ok")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/my/{key}")
    assert "Close the record" in page.inner_text("#next-step")
    shot(page, "my-record")


def test_the_desk_pages_filters_sorts_and_hands_out_work(page: Any, live: Live) -> None:
    from tests.conftest import ALICE
    from tests.web.support import INCIDENT, work

    keys = [instances.start(live.db, IVAN, "response", {"summary": f"Laptop {n:02d} is slow"}).business_key
            for n in range(56)]
    work(live.db, ALICE, keys[0], "record", {**INCIDENT, "impact": "high", "urgency": "high"})
    sign_in(page, "admin")
    page.goto("/inbox?tab=all")
    assert "56 tasks" in page.inner_text("#inbox-count")
    page.click("#inbox-table th a[data-sort=record]")
    page.wait_for_url("**sort=record**")
    first = page.eval_on_selector_all("#inbox-table tbody tr", "els => els.map(e => e.dataset.businessKey)")
    assert first == keys[:50]
    page.click("#next-page")
    page.wait_for_selector("#first-page")
    assert page.eval_on_selector_all("#inbox-table tbody tr", "els => els.map(e => e.dataset.businessKey)") == \
        keys[50:]
    page.click("#inbox-table th a[data-sort=record]")  # again: newest record first
    page.wait_for_url("**sort=-record**")
    assert page.locator("#inbox-table tbody tr").first.get_attribute("data-business-key") == keys[-1]

    page.select_option("#f-priority", "P1")
    page.click("#inbox-filters button[type=submit]")
    page.wait_for_url("**priority=P1**")
    assert "1 task match" in page.inner_text("#inbox-count")
    shot(page, "inbox-filtered")
    page.click("#clear-filters")
    page.fill("#inbox-q", "Laptop 1")
    page.click("#inbox-filters button[type=submit]")
    page.wait_for_url("**q=Laptop**")
    assert "10 tasks match" in page.inner_text("#inbox-count")
    for box in page.locator("#inbox-table .row-select").all()[:3]:
        box.check()
    page.fill("#bulk-assignee", "alice")
    page.click("#bulk-assign")
    page.wait_for_selector(".flash-ok")
    assert "3 of 3 tasks assigned to alice." in page.inner_text(".flashes")
    sign_out(page)

    sign_in(page, "alice")
    page.goto("/inbox?tab=mine")
    assert page.locator("#inbox-table tbody tr").count() == 3
    page.set_viewport_size(PHONE)
    page.goto("/inbox")
    _no_sideways_scroll(page)
    shot(page, "inbox-phone")
    page.locator("#inbox-table .row-select").first.check()
    page.click("#bulk-claim")
    page.wait_for_selector(".flash-ok")
    assert "1 of 1 task claimed." in page.inner_text(".flashes")
    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto("/inbox?tab=all")
    _no_sideways_scroll(page)
    shot(page, "inbox-tablet")


def test_a_due_range_cannot_end_before_it_starts(page: Any, live: Live) -> None:
    sign_in(page, "alice")
    page.goto("/inbox")
    page.fill("#f-due-from", "2026-03-10")
    page.dispatch_event("#f-due-from", "change")
    assert page.get_attribute("#f-due-to", "min") == "2026-03-10"
    live.expected += ["HTTP 400 for GET", "status of 400"]  # typed past the picker: refused with the reason
    page.goto("/inbox?due_from=2026-03-10&due_to=2026-03-01")
    assert "the due range ends before it starts" in page.inner_text("#filter-problem")
    assert page.locator("#inbox-count").count() == 1  # the inbox is still there


def test_dashboard_cards_and_bars_open_their_records(page: Any, live: Live) -> None:
    from tests.web.support import seed_history

    seed_history(live.db)
    sign_in(page, "carol")
    page.goto("/dashboard")
    bar = page.locator("svg.chart-bars a.drill").first
    counted = int(bar.locator("text.value").text_content() or "0")
    bar.click()
    page.wait_for_selector("#drill-table, .empty-state")
    assert page.locator("#drill-table tbody tr").count() == counted
    page.go_back()
    page.click("#t-resolve")
    page.wait_for_url("**figure=resolve**")
    shot(page, "dashboard-drill")
    page.goto("/dashboard")
    page.click("#t-overdue")
    page.wait_for_url("**sla=overdue**")
    assert "2 tasks match" in page.inner_text("#inbox-count")
    live.expected += ["HTTP 400 for GET", "status of 400"]  # the bad period below, answered inline
    page.goto("/dashboard?from=2026-05-01&to=2026-04-01")
    assert "the period starts after it ends" in page.inner_text("#period-problem")
    assert page.locator("#m-open-tasks").count() == 1
    page.set_viewport_size(PHONE)
    page.goto("/dashboard")
    shot(page, "dashboard-phone", full_page=True)
