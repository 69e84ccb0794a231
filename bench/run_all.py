"""Runs the benchmarks and prints one summary table (figure, value, target, met?) matching docs/performance.md.

``make bench`` runs ``.venv/bin/python bench/run_all.py``. B1, B3, B5 and B6 run on SQLite and B10 with no database
(a few minutes in all; B10's cost of the script limits is shown as a share of B1's CPU per instance); B2, B4,
B7, B8 and B9 run when PostgreSQL is reachable (ITSMFLOW_BENCH_POSTGRES_URL, default
postgresql://postgres@127.0.0.1:5432/test) and are reported "not run: PostgreSQL unreachable" otherwise.
Each benchmark runs in its own process (no shared caches between them); its full output is shown as it runs.

Options: ``--only b1,b3`` runs a subset; ``--no-postgres`` skips B2, B4, B7, B8 and B9; ``--quick`` runs shorter
versions (fewer rounds, 10,000 inbox instances, a 15 s HTTP run) to check the scripts, not to quote.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from common import BENCH, Row, machine, parse_rows, pg_reachable, print_table

SQLITE = ["b1", "b3", "b5", "b6", "b10"]
POSTGRES = ["b2", "b4", "b7", "b8", "b9"]
ORDER = ["b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10"]  # the order of docs/performance.md
SCRIPTS = {
    "b1": ("b1_throughput.py", ["--breakdown"], ["--rounds", "3", "--instances", "40", "--warmup", "10"]),
    "b2": ("b2_inbox.py", [], ["--instances", "10000", "--queries", "50"]),
    "b3": ("b3_long_lived.py", [], ["--window", "5"]),
    "b4": ("b4_http.py", [], ["--duration", "15", "--warmup", "3"]),
    "b5": ("b5_storage.py", [], ["--instances", "50"]),
    "b6": ("b6_rules.py", [], []),
    "b7": ("b7_inbox_pages.py", [], ["--instances", "5000", "--queries", "20"]),
    "b8": ("b8_change_conflicts.py", [], ["--queries", "50"]),
    "b9": ("b9_timers.py", [], ["--duration", "15", "--warmup", "3"]),
    "b10": ("b10_script_limits.py", [], ["--seconds", "0.5", "--rounds", "2", "--instances", "10"]),
}
NOT_RUN = {
    "b2": Row("b2_available_service_desk", "B2 inbox 'available' for service_desk: service p95 (ms)",
              "not run: PostgreSQL unreachable", "<= 20", None),
    "b4": Row("b4_rate", "B4 HTTP completions/s (gunicorn, PostgreSQL)", "not run: PostgreSQL unreachable",
              ">= 150", None),
    "b7": Row("b7_available_first", "B7 inbox page available first: page with its exact total p95 (ms)",
              "not run: PostgreSQL unreachable", "<= 20", None),
    "b8": Row("b8_conflicts", "B8 conflict check of one change vs 10,000: service p95 (ms)",
              "not run: PostgreSQL unreachable", "<= 20", None),
    "b9": Row("b9_rate", "B9 mixed: completions/s by people (8 clients, 4 web, 2 timer workers)",
              "not run: PostgreSQL unreachable", "-", None),
}


def run(name: str, quick: bool) -> tuple[list[Row], float, int]:
    script, normal, short = SCRIPTS[name]
    cmd = [sys.executable, str(BENCH / script), *(short if quick else normal)]
    print(f"\n{'=' * 100}\n{name.upper()}: {' '.join(Path(c).name if i < 2 else c for i, c in enumerate(cmd))}\n",
          flush=True)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=BENCH.parent)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    code = proc.wait()
    output = "".join(lines)
    rows = b6_rows(output) if name == "b6" else parse_rows(output)
    if not rows:
        rows = [Row(name, f"{name.upper()} (failed, exit {code})", "error", "-", False)]
    return rows, time.perf_counter() - started, code


def b6_rows(output: str) -> list[Row]:
    """bench/b6_rules.py prints its own report; its median line is the figure."""
    found = re.search(r"median ([0-9.]+) µs/evaluation", output)
    if not found:
        return []
    value = float(found.group(1))
    return [Row("b6_rules", "B6 decision table evaluation, 20 rules x 3 inputs (µs)", f"{value:.1f}", "< 50",
                value < 50)]


def b10_share(b1: list[Row], b10: list[Row]) -> Row:
    """The limits' CPU per B1 reference instance (B10) over B1's services CPU per instance, same run."""
    figure = "B10 limits' cost / B1 services CPU per instance (same run)"
    values = {row.key: row.value for row in b1 + b10}
    try:
        services = float(values["b1_cpu"].split("/")[0])
        added = float(values["b10_instance"])
    except (KeyError, ValueError):
        return Row("b10_share", figure, "not computed (B1 or B10 failed)", "<= 10%", None)
    share = added / services
    return Row("b10_share", figure, f"{share:.1%} ({added:.2f} of {services:.1f} ms)", "<= 10%", share <= 0.10)


def revision() -> str:
    """The commit measured, and whether the work tree had uncommitted changes (several people work here)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=BENCH.parent, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "engine", "web"],
                               capture_output=True, text=True, cwd=BENCH.parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git work tree)"
    return head + (" with uncommitted changes in engine/ or web/" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated subset, e.g. b1,b3")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    chosen = [n.strip().lower() for n in args.only.split(",") if n.strip()] or ORDER
    info = machine()
    print(f"itsmflow benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(", ".join(f"{k}: {v}" for k, v in info.items()))
    print(f"code: {revision()}")
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    if load:
        print(f"load average before the run: {' '.join(load)}"
              + ("  (the machine is busy: absolute figures will be low; ratios measured side by side hold better)"
                 if float(load[0]) > 1.0 else ""))
    if args.quick:
        print("QUICK MODE: shortened runs, figures not for quoting")

    results: dict[str, list[Row]] = {}
    timings: dict[str, float] = {}
    failed = []
    for name in [n for n in ORDER if n in chosen and n in SQLITE]:
        results[name], timings[name], code = run(name, args.quick)
        if code != 0 and not (name == "b6" and results[name] and results[name][0].met is False):
            failed.append(name)
    sqlite_total = sum(timings.values())

    pg_wanted = [n for n in ORDER if n in chosen and n in POSTGRES]
    if pg_wanted:
        ok, why = (False, "skipped (--no-postgres)") if args.no_postgres else pg_reachable()
        for name in pg_wanted:
            if ok:
                results[name], timings[name], code = run(name, args.quick)
                if code != 0:
                    failed.append(name)
            else:
                print(f"\n{name.upper()} not run: PostgreSQL unreachable ({why})")
                results[name] = [NOT_RUN[name]]

    if "b1" in results and "b10" in results:
        results["b10"].append(b10_share(results["b1"], results["b10"]))
    print(f"\n{'=' * 100}\nSUMMARY ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {info['cpu']}, {info['cores']} cores)")
    print_table([row for name in ORDER if name in results for row in results[name]])
    print("\nrun times: " + ", ".join(f"{n.upper()} {t:.0f} s" for n, t in timings.items())
          + f"; SQLite benchmarks together {sqlite_total:.0f} s")
    missed = [r.figure for rows in results.values() for r in rows if r.met is False]
    print(f"targets missed: {len(missed)}" + (" (docs/performance.md says what the profiles show)" if missed else ""))
    if failed:
        print(f"FAILED to run: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
