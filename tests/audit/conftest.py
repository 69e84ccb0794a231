"""Audit tests keep their checkpoint file in the test's own directory, never in instance/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.services import audit


@pytest.fixture(autouse=True)
def checkpoint_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "audit-checkpoints.log"
    monkeypatch.setenv(audit.CHECKPOINT_ENV, str(path))
    yield path
