"""The retry limits of undeliverable messages come from the environment; a typo keeps the default."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.services import message_retry


def test_defaults_give_about_three_days_before_a_dead_letter(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in message_retry.DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    limits = message_retry.settings()
    assert (limits.max_attempts, limits.first_pause, limits.max_pause) == (20, 60, 6 * 3600)
    total = sum((limits.pause(n) for n in range(1, limits.max_attempts)), timedelta())
    assert timedelta(days=2) < total < timedelta(days=4)


def test_the_pause_doubles_up_to_its_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITSMFLOW_MESSAGE_RETRY_SECONDS", "10")
    monkeypatch.setenv("ITSMFLOW_MESSAGE_RETRY_MAX_SECONDS", "45")
    limits = message_retry.settings()
    assert [limits.pause(n).total_seconds() for n in (1, 2, 3, 4, 100)] == [10, 20, 40, 45, 45]


@pytest.mark.parametrize("raw", ["ten", "-1", "0"])
def test_a_bad_attempt_limit_keeps_the_default(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("ITSMFLOW_MESSAGE_MAX_ATTEMPTS", raw)
    assert message_retry.settings().max_attempts == 20


def test_a_cap_below_the_first_pause_is_raised_to_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITSMFLOW_MESSAGE_RETRY_SECONDS", "120")
    monkeypatch.setenv("ITSMFLOW_MESSAGE_RETRY_MAX_SECONDS", "30")
    assert message_retry.settings().pause(1) == timedelta(seconds=120)
