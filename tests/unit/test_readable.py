"""Record data as people read it (engine/services/readable.py)."""

from __future__ import annotations

import pytest

from engine.services import readable


@pytest.mark.parametrize(("text", "words"), [
    ("PT15M", "15 minutes"), ("PT1H", "1 hour"), ("P1DT2H", "1 day 2 hours"), ("P2W", "2 weeks"),
    ("PT0.5S", "0.5 seconds"), ("R3/PT10M", "every 10 minutes, 3 times"), ("R/P1D", "every 1 day"),
    ("pt4h", "4 hours"),
])
def test_durations_in_words(text: str, words: str) -> None:
    assert readable.duration_words(text) == words


@pytest.mark.parametrize("text", ["P", "PT", "PTX", "15 minutes", "P1H", "R3/nope", ""])
def test_not_durations(text: str) -> None:
    assert readable.duration_words(text) is None


def test_values_as_text_never_json() -> None:
    assert readable.text_of(True) == "yes" and readable.text_of(None) == "—" and readable.text_of("") == "—"
    assert readable.text_of("high", {"high": "High: many users"}) == "High: many users"
    assert readable.text_of("2026-12-01T14:52:00+00:00") == "2026-12-01 14:52 UTC"
    assert readable.text_of(["INC-000001", "INC-000002"]) == "INC-000001, INC-000002"
    assert readable.text_of({"respond_target": "PT4H", "met": False}) == "Respond target: 4 hours; Met: no"
    assert readable.text_of(2.50) == "2.5"


def test_rows_use_the_form_labels() -> None:
    labels = {"impact": {"label": "Business impact", "options": {"high": "High"}}}
    got = readable.rows(labels, {"business_key": "INC-1", "impact": "high", "user_confirmed": True,
                                 "token": "abc"}, secret=frozenset({"token"}))
    assert got == [{"id": "impact", "label": "Business impact", "text": "High"},
                   {"id": "user_confirmed", "label": "User confirmed", "text": "yes"},
                   {"id": "token", "label": "Token", "text": "********"}]
