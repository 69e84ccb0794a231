"""The gunicorn entry point (web/wsgi.py), imported as gunicorn's worker imports it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_entry_point_freezes_what_building_the_app_made(tmp_path: Path) -> None:
    # Frozen objects are out of the garbage collector's reach: a full collection under load no longer walks the
    # libraries and the app (a cost per request, see web/wsgi.py). A few thousand would be the interpreter alone.
    env = {**os.environ, "ITSMFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'itsmflow.db'}",
           "ITSMFLOW_SECRET_KEY": "test-secret"}
    done = subprocess.run([sys.executable, "-c", "import gc, web.wsgi; print(gc.get_freeze_count())"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout) > 50_000
