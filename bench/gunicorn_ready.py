"""gunicorn settings for the HTTP benchmarks (``gunicorn -c bench/gunicorn_ready.py``): each worker leaves a file
named by its pid in ITSMFLOW_BENCH_READY_DIR once it has loaded the app. A worker imports the app after gunicorn
already listens (10 s and more on a loaded machine), so the benchmarks wait for every worker's file before the
warm-up starts: otherwise the measured window holds requests queued behind a worker's imports."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def post_worker_init(worker: Any) -> None:
    folder = os.environ.get("ITSMFLOW_BENCH_READY_DIR")
    if folder:
        Path(folder, str(worker.pid)).touch()
