"""Runs every benchmark, each as its own process, and writes ``bench/results.md``.

    .venv/bin/python bench/run_all.py [--quick] [--runs 3] [--only put,e2e,scaling,memory,spread] [--out FILE]

``--quick`` is a short smoke pass (small sizes; the figures mean little). Benchmarks written by
others (``memory.py``, ``spread_throughput.py``) are run when present and their output is quoted.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PYTHON, ROOT, Row, load_rows, machine, machine_text, ratio, table

BENCH = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Bench:
    """One benchmark script: its key, title, arguments, and whether it writes our JSON rows."""

    key: str
    title: str
    script: str
    args: tuple[str, ...]
    quick_args: tuple[str, ...]
    rows: bool
    timeout_s: float


BENCHES = (
    Bench("put", "PUT throughput", "put_throughput.py", (), ("--quick",), True, 1800),
    Bench("e2e", "End to end: 500 .doc files", "end_to_end.py", (), ("--quick",), True, 1800),
    Bench("scaling", "End to end: scaling with processors and file size", "end_to_end.py", ("--scaling",),
          ("--scaling", "--quick"), True, 3600),
    Bench("memory", "Memory: peak RSS during a 1 GiB upload", "memory.py", (), ("--mib", "64"), False, 1200),
    Bench("spread", "Spread throughput", "spread_throughput.py", (), ("--quick",), False, 1200),
)


@dataclass
class Outcome:
    """What running one benchmark gave."""

    bench: Bench
    status: str
    seconds: float
    output: str
    rows: list[Row]


def run(bench: Bench, quick: bool, runs: int, work: Path) -> Outcome:
    script = BENCH / bench.script
    if not script.exists():
        return Outcome(bench, f"skipped: {bench.script} does not exist yet", 0.0, "", [])
    argv = [PYTHON, str(script), *(bench.quick_args if quick else bench.args)]
    out = work / f"{bench.key}.json"
    if bench.rows:
        argv += ["--runs", str(runs), "--json", str(out)]
    print(f"== {bench.title}: {' '.join(argv[1:])}", flush=True)
    start = time.monotonic()
    # Its own session, so a timeout also stops the servers it started.
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=bench.timeout_s)
        status = "ok" if proc.returncode == 0 else f"exit status {proc.returncode}"
        output = stdout + (f"\n[stderr]\n{stderr}" if proc.returncode != 0 and stderr else "")
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            stdout, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, _ = proc.communicate()
        status, output = f"timed out after {bench.timeout_s:.0f} s", stdout or ""
    seconds = time.monotonic() - start
    print(f"   {status} in {seconds:.0f} s", flush=True)
    rows = load_rows(out) if bench.rows and out.exists() else []
    return Outcome(bench, status, seconds, output, rows)


# --- targets (issue "Fast and lean") -------------------------------------------------------------
def find(rows: Sequence[Row], case_start: str, target: str) -> Row | None:
    return next((r for r in rows if r.case.startswith(case_start) and r.target == target and r.values), None)


def check(name: str, value: float | None, goal: float, how: str) -> str:
    if value is None:
        return f"| {name} | ≥ {goal:g}{how} | not measured | — |"
    verdict = "met" if value >= goal else f"MISSED by {(1 - value / goal) * 100:.0f} %"
    return f"| {name} | ≥ {goal:g}{how} | {value:.2f} | {verdict} |"


def targets(rows: Sequence[Row]) -> str:
    lines = ["| target | goal | measured (ratio of medians) | verdict |", "|---|---|---:|---|"]
    big = find(rows, "PUT 1 ×", "spreadgate")
    lines.append(check("512 MiB PUT MB/s vs nginx", ratio(big, rows, "nginx dav") if big else None, 0.9, "× nginx"))
    for case, what in (("PUT 500 × 64 KiB, 1 ", "keep-alive"), ("PUT 500 × 64 KiB, 8 ", "8 connections")):
        row = find(rows, case.replace("500", "100"), "spreadgate") or find(rows, case, "spreadgate")
        lines.append(check(f"64 KiB files/s ({what}) vs stock WsgiDAV",
                           ratio(row, rows, "stock WsgiDAV") if row else None, 0.8, "× stock WsgiDAV"))
    two = find(rows, "", "spreadgate, 2 processors")
    one = find(rows, "", "spreadgate, 1 processor")
    wsgidav = find(rows, "PUT 500 × 64 KiB, 1 ", "stock WsgiDAV") or find(rows, "PUT 100 × 64 KiB, 1 ", "stock WsgiDAV")
    lines.append(check("end-to-end docs/s (2 processors) vs stock WsgiDAV 64 KiB keep-alive files/s",
                       two.stats.median / wsgidav.stats.median if two and wsgidav else None, 0.5, "×"))
    flowing = find(rows, "", "spreadgate, 2 processors, first result → last")
    lines.append(check("the same, counted from the first result to the last (no quiet period)",
                       flowing.stats.median / wsgidav.stats.median if flowing and wsgidav else None, 0.5, "×"))
    lines.append(check("end-to-end docs/s, 2 processors vs 1", two.stats.median / one.stats.median
                       if two and one else None, 1.0, "× (more than 1)"))
    lines.append("| peak RSS during 1 GiB PUT/POST ≤ idle + 100 MiB | see the memory section | | |")
    return "\n".join(lines)


READING = """\
- Every target runs on this machine in this run, one after another; the machines are shared and
  noisy, so compare ratios within one file, not absolute figures across files.
- spreadgate is meant to reply only once an upload is durable (it fsyncs before replying);
  stock WsgiDAV and nginx do not fsync at all. `disk (fsync per file)` is the cost of that
  durability alone (no HTTP), `disk (dd)` the disk's streaming ceiling with one final fdatasync.
- spreadgate figures include its own forwarding (over Spread) and recording running at the same
  time, as in use. Between runs the harness waits for that backlog to drain (or to stall)."""


def report(outcomes: Sequence[Outcome], quick: bool, runs: int) -> str:
    every = [row for o in outcomes for row in o.rows]
    parts = ["# Benchmark results", "",
             f"Written by `bench/run_all.py{' --quick' if quick else ''}` (median [min–max] of {runs} runs; "
             "ratios are of medians, measured in the same run)." + (" QUICK smoke pass: small sizes, "
                                                                    "figures are not comparable." if quick else ""),
             "", "## Machine", "", machine_text(machine()), "", "## How to read these figures", "", READING,
             "", "## Targets", "", targets(every), ""]
    for o in outcomes:
        parts += [f"## {o.bench.title}", "", f"`bench/{o.bench.script}` — {o.status}, {o.seconds:.0f} s", ""]
        if o.rows:
            parts += [table(o.rows), ""]
        elif o.output:
            parts += ["```", "\n".join(o.output.strip().splitlines()[-40:]), "```", ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short smoke pass of every benchmark")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default=",".join(b.key for b in BENCHES))
    parser.add_argument("--out", default=str(BENCH / "results.md"))
    args = parser.parse_args(argv)
    keys = args.only.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-all-") as tmp:
        outcomes = [run(b, args.quick, args.runs, Path(tmp)) for b in BENCHES if b.key in keys]
    Path(args.out).write_text(report(outcomes, args.quick, args.runs))
    print(f"wrote {args.out}")
    return 0 if all(o.status == "ok" or o.status.startswith("skipped") for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
