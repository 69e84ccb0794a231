"""Dashboard drill-down: every card and bar opens exactly the records it counted; a bad period is said inline."""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient

from engine.db.database import Database
from tests.web.conftest import sign_in
from tests.web.support import seed_history


def _drill_links(html: str) -> dict[str, str]:
    return {unescape(m.group(2)): unescape(m.group(1)) for m in re.finditer(
        r'href="(/dashboard/records\?[^"]*figure=([^"&]+)[^"]*)"', html)}


def test_cards_and_bars_open_the_records_they_count(client: FlaskClient, ui_db: Database) -> None:
    seed_history(ui_db)
    sign_in(client, "carol")
    html = client.get("/dashboard").get_data(as_text=True)
    links = {k.replace("%3A", ":"): v for k, v in _drill_links(html).items()}
    assert {"respond", "resolve", "first_line", "reopened"} <= set(links)
    resolve_n = int(re.search(r'id="m-resolve".*?n=(\d+)', html, flags=re.S).group(1))
    page = client.get(links["resolve"]).get_data(as_text=True)
    assert len(re.findall(r'<tr data-business-key=', page)) == resolve_n
    bars = {k: v for k, v in links.items() if k.startswith("priority:")}
    assert bars
    for figure, url in bars.items():
        counted = re.search(rf'bar-{figure.split(":")[1]}".*?<text class="value"[^>]*>(\d+)<', html, flags=re.S)
        rows = client.get(url).get_data(as_text=True)
        assert counted and len(re.findall(r'<tr data-business-key=', rows)) == int(counted.group(1)), figure
    opened = [k for k in links if k.startswith("opened:")]
    assert opened
    assert client.get("/dashboard/records?figure=nonsense").status_code == 400
    assert 'href="/inbox?tab=all&amp;sla=overdue"' in html


def test_a_bad_period_is_an_inline_message(client: FlaskClient, ui_db: Database) -> None:
    sign_in(client, "carol")
    for query in ("from=2026-05-01&to=2026-04-01", "from=yesterday", "from=2020-01-01&to=2026-01-01"):
        resp = client.get(f"/dashboard?{query}")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400 and 'id="period-problem"' in html and 'id="m-open-tasks"' in html, query
    sign_in(client, "ivan")
    assert client.get("/dashboard/records?figure=resolve").status_code == 403
