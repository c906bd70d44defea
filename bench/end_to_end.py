"""End to end: documents PUT to ``spreadgate up`` until every result is recorded, against antiword alone.

Default: 500 real ``.doc`` files (the corpus files antiword converts, cycled) sent one after another
over one keep-alive connection, with 1 and with 2 processors. A run lasts from the first byte sent
to the last result recorded (the greatest ``processed_at`` of the run's rows, read from
``GET /_/api/uploads``) and is reported as documents/s. The reference converts the same 500 files
with a bare loop of ``antiword`` subprocess calls in one process. Latency is ``processed_at`` (the
responder's clock, same machine) minus the time this script saw the PUT's reply.

``--scaling``: generated ``.txt`` documents of 64 KiB, 1 MiB and 16 MiB with 1, 2 and 4 processors.

    .venv/bin/python bench/end_to_end.py [--quick] [--runs 3] [--scaling]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from spreadgate.supervisor import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    BLOCK,
    MB,
    PYTHON,
    ROOT,
    Row,
    Server,
    ServerError,
    children,
    list_uploads,
    save_rows,
    summary,
    table,
)

CORPUS = ROOT.parent / "shared" / "corpus"
RESULT_DEADLINE_S = 900.0
NO_PROGRESS_S = 120.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
POLL_S = 1.0
FINAL = ("processed", "failed")
# A processor logs this once its receiving session (private name #p…) has asked to join the group.
JOIN_HINT = re.compile(r"connected to spread daemon \S+ as #p")
JOIN_SETTLE_S = 0.5
ANTIWORD_ENV = {**os.environ, "LC_ALL": "C.UTF-8"}


@dataclass(frozen=True)
class Doc:
    """One document to send: its path on the server, its size, and a maker of its body."""

    path: str
    size: int
    body: Callable[[], Iterable[bytes]]


@dataclass(frozen=True)
class Batch:
    """What one run measured."""

    seconds: float
    converting_s: float  # from the first result recorded to the last
    latencies_ms: list[float]
    processors: set[str]
    failed: list[str]
    cpu_s: dict[str, float]


def corpus_docs() -> list[Path]:
    expected = json.loads((CORPUS / "expected.json").read_text())
    return sorted(CORPUS / name for name, facts in expected.items()
                  if name.endswith(".doc") and facts.get("antiword_exit") == 0)


def file_body(path: Path) -> Callable[[], Iterable[bytes]]:
    def body() -> Iterator[bytes]:
        with path.open("rb") as handle:
            while piece := handle.read(BLOCK):
                yield piece
    return body


def text_body(size: int, serial: int) -> Callable[[], Iterable[bytes]]:
    """A plain-text document of ``size`` bytes, unique by its first line, made 64 KiB at a time."""
    words = b"gateway forwards every saved document to a processor that extracts its text\n"
    block = (words * (BLOCK // len(words) + 1))[:BLOCK]

    def body() -> Iterator[bytes]:
        head = f"document {serial} of the scaling benchmark\n".encode()
        yield head
        left = size - len(head)
        while left > 0:
            piece = block[: min(BLOCK, left)]
            left -= len(piece)
            yield piece
    return body


# --- servers -------------------------------------------------------------------------------------
def start_pipeline(stack: ExitStack, work: Path, processors: int) -> tuple[int, Callable[[], dict[str, int]]]:
    """Starts ``spreadgate up`` plus ``processors - 1`` extra processors.

    Returns the HTTP port and a function naming the pid of every component process now running.
    """
    port, spread_port = free_port(), free_port()
    up = Server("spreadgate up", [PYTHON, "-m", "spreadgate", "up", "--data-dir", str(work / "data"),
                                  "--listen", f"127.0.0.1:{port}", "--spread-port", str(spread_port)],
                port, ready_prefix="spreadgate is up:", cwd=str(ROOT), log_path=work / "up.log")
    stack.enter_context(up).start()
    extras = []
    for n in range(processors - 1):
        extra = Server(f"processor {n + 2}", [PYTHON, "-m", "spreadgate", "processor", "--spread",
                                              f"{spread_port}@127.0.0.1", "--data-dir", str(work / f"p{n + 2}")],
                       spread_port, cwd=str(ROOT), log_path=work / f"processor{n + 2}.log")
        stack.enter_context(extra).start()
        wait_for_join(extra)
        extras.append(extra)

    def pids() -> dict[str, int]:
        assert up.proc is not None
        found = {**children(up.proc.pid), "up": up.proc.pid}
        found.update({f"processor{n + 2}": e.proc.pid for n, e in enumerate(extras) if e.proc is not None})
        return found
    return port, pids


def cpu_seconds(pid: int) -> float:
    """User and system time of ``pid`` and its waited-for children (the converters), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / CLOCK_TICKS


def wait_for_join(server: Server, deadline_s: float = 10.0) -> None:
    # The processor's log says when it has joined; a join that lands later only delays sharing.
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline and server.alive:
        if any(JOIN_HINT.search(line) for line in server.output):
            time.sleep(JOIN_SETTLE_S)  # for the daemon to deliver the new membership
            return
        time.sleep(0.1)
    if not server.alive:
        raise ServerError(f"{server.name} exited ({server.cause()}); its last lines:\n{''.join(server.output[-20:])}")
    print(f"  ({server.name}: no join line in its log after {deadline_s:.0f} s; going on)", flush=True)


# --- one run -------------------------------------------------------------------------------------
def send_all(port: int, docs: list[Doc]) -> dict[str, float]:
    """PUTs every document over one keep-alive connection; the wall time of each reply, by path."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    ends: dict[str, float] = {}
    try:
        for doc in docs:
            conn.request("PUT", doc.path, body=doc.body(), headers={"Content-Length": str(doc.size)})
            resp = conn.getresponse()
            answer = resp.read()
            ends[doc.path.lstrip("/")] = time.time()
            if resp.status not in (200, 201, 204):
                raise RuntimeError(f"PUT {doc.path}: {resp.status} {answer[:200]!r}")
    finally:
        conn.close()
    return ends


def wait_for_results(port: int, paths: set[str]) -> dict[str, dict[str, object]]:
    """The final rows of ``paths``; ``seen`` in each is when a poll first saw it final (epoch s)."""
    deadline = time.monotonic() + RESULT_DEADLINE_S
    seen: dict[str, float] = {}
    progress = time.monotonic()
    while True:
        rows = {str(u["path"]).lstrip("/"): u for u in list_uploads(port)}
        mine = {p: rows[p] for p in paths if p in rows}
        now = time.time()
        for path, row in mine.items():
            if row["state"] in FINAL and path not in seen:
                seen[path], progress = now, time.monotonic()
        if len(seen) == len(paths):
            return {p: {**row, "seen": seen[p]} for p, row in mine.items()}
        if time.monotonic() - progress > NO_PROGRESS_S:
            states = Counter(str(u["state"]) for u in mine.values())
            raise RuntimeError(f"no new result for {NO_PROGRESS_S:.0f} s: {len(seen)} of {len(paths)} final, "
                               f"states {dict(states)}")
        if time.monotonic() > deadline:
            done = sum(u["state"] in FINAL for u in mine.values())
            raise RuntimeError(f"{done} of {len(paths)} results after {RESULT_DEADLINE_S:.0f} s")
        # Rarely: a listing of 1000 rows costs the gateway ~40 ms, and the figures come from
        # processed_at, not from when a poll noticed.
        time.sleep(POLL_S)


def epoch(stamp: object) -> float:
    text = str(stamp).rstrip("Z")
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


def run_batch(port: int, docs: list[Doc], pids: Callable[[], dict[str, int]]) -> Batch:
    running = pids()
    cpu_before = {name: cpu_seconds(pid) for name, pid in running.items()}
    start = time.time()
    ends = send_all(port, docs)
    results = wait_for_results(port, set(ends))
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in running.items()}
    # processed_at is the responder's record of the result; the poll time only if it is missing.
    recorded = {p: epoch(u["processed_at"]) if u.get("processed_at") else float(str(u["seen"]))
                for p, u in results.items()}
    return Batch(seconds=max(recorded.values()) - start,
                 converting_s=max(recorded.values()) - min(recorded.values()),
                 latencies_ms=[(recorded[p] - ends[p]) * 1000 for p in ends],
                 processors={str(u["processor"]) for u in results.values() if u["processor"]},
                 failed=[f"{p}: {u['error']}" for p, u in results.items() if u["state"] == "failed"],
                 cpu_s=cpu)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


# --- the two modes -------------------------------------------------------------------------------
def antiword_loop(files: list[Path]) -> float:
    start = time.perf_counter()
    for path in files:
        done = subprocess.run(["antiword", str(path)], check=False, capture_output=True, env=ANTIWORD_ENV, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"antiword {path.name}: exit {done.returncode}")
    return len(files) / (time.perf_counter() - start)


Plan = list[tuple[str, Callable[[int], list[Doc]]]]


def measure_pipeline(processors: int, runs: int, plan: Plan) -> tuple[dict[str, list[Batch]], str]:
    """One pipeline with ``processors`` processors; ``runs`` batches of each series of the plan."""
    found: dict[str, list[Batch]] = {key: [] for key, _ in plan}
    with tempfile.TemporaryDirectory(prefix=f"bench-e2e-{processors}p-") as tmp, ExitStack() as stack:
        try:
            port, pids = start_pipeline(stack, Path(tmp), processors)
            for key, make_docs in plan:
                for run in range(runs):
                    batch = run_batch(port, make_docs(run), pids)
                    found[key].append(batch)
                    print(f"    {processors} processor(s), {key}, run {run + 1}: {batch.seconds:.2f} s, "
                          f"{len(batch.failed)} failed, processors {sorted(batch.processors)}", flush=True)
            return found, ""
        except (ServerError, RuntimeError, OSError, ValueError, KeyError) as exc:
            print(f"    {processors} processor(s): NOT MEASURED: {exc}", flush=True)
            return found, f"not measured: {summary(exc)}"


def batch_note(batches: list[Batch]) -> str:
    seen = set().union(*(b.processors for b in batches)) if batches else set()
    failed = sum(len(b.failed) for b in batches)
    first = next((b.failed[0] for b in batches if b.failed), "")
    return f"results from {len(seen)} processor(s)" + (f"; {failed} failed, e.g. {first[:100]}" if failed else "")


def main_mode(runs: int, count: int, rows: list[Row]) -> None:
    files = list(itertools.islice(itertools.cycle(corpus_docs()), count))
    case = f"{count} .doc end to end"
    ref = [antiword_loop(files) for _ in range(runs)]
    print(f"  antiword loop: {ref} docs/s", flush=True)
    rows.append(Row(case, "antiword loop", "docs/s", ref, [], "one process, one antiword call per file", 1))

    def make_docs(run: int) -> list[Doc]:
        return [Doc(f"/e2e{run}-{i:04d}-{p.name}", p.stat().st_size, file_body(p)) for i, p in enumerate(files)]

    for processors in (1, 2):
        found, error = measure_pipeline(processors, runs, [(case, make_docs)])
        batches = found[case]
        label = f"spreadgate, {processors} processor{'s' if processors > 1 else ''}"
        rows.append(Row(case, label, "docs/s", [count / b.seconds for b in batches], ["antiword loop"],
                        error or batch_note(batches), 1))
        # Without the quiet period and the first upload's way through: whether conversion keeps up.
        rows.append(Row(case, f"{label}, first result → last", "docs/s",
                        [(count - 1) / b.converting_s for b in batches if b.converting_s > 0], ["antiword loop"],
                        error or "results recorded per second once they flow", 1))
        for q in (50, 99):
            rows.append(Row(f"PUT reply → result recorded, p{q}", label, "ms",
                            [percentile(b.latencies_ms, q) for b in batches], [],
                            error or "processed_at − PUT reply time seen by the client", 0))
        for component in sorted({name for b in batches for name in b.cpu_s if name != "up"}):
            rows.append(Row(f"CPU ms per document, {label}", component, "ms",
                            [b.cpu_s.get(component, 0.0) / count * 1000 for b in batches], [],
                            "user+system, converters included; the machine has "
                            f"{os.cpu_count()} CPUs", 1))


def scaling_mode(runs: int, quick: bool, rows: list[Row]) -> None:
    sizes = [(64 * 1024, 50 if quick else 200), (2**20, 20 if quick else 100), (16 * 2**20, 4 if quick else 20)]

    def maker(size: int, count: int) -> Callable[[int], list[Doc]]:
        def make_docs(run: int) -> list[Doc]:
            return [Doc(f"/scale{size}-{run}-{i:04d}.txt", size, text_body(size, run * 100000 + i))
                    for i in range(count)]
        return make_docs

    plan = [(f"{count} × {size // 1024} KiB .txt end to end", maker(size, count)) for size, count in sizes]
    for processors in (1, 2, 4):
        found, error = measure_pipeline(processors, runs, plan)
        label = f"{processors} processor{'s' if processors > 1 else ''}"
        refs = [] if processors == 1 else ["1 processor"]
        for (size, count), (case, _) in zip(sizes, plan):
            batches = found[case]
            rows.append(Row(case, label, "docs/s", [count / b.seconds for b in batches], refs,
                            error or batch_note(batches), 1))
            rows.append(Row(case + " (MB/s)", label, "MB/s", [count * size / b.seconds / MB for b in batches],
                            refs, error, 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 documents (scaling: fewer): a smoke pass")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scaling", action="store_true", help="1, 2, 4 processors × 64 KiB, 1 MiB, 16 MiB")
    parser.add_argument("--reference-only", action="store_true", help="only the antiword loop")
    parser.add_argument("--json", help="also write the rows to this file (for run_all.py)")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    if args.scaling:
        scaling_mode(args.runs, args.quick, rows)
    elif args.reference_only:
        files = list(itertools.islice(itertools.cycle(corpus_docs()), 100 if args.quick else 500))
        rows.append(Row(f"{len(files)} .doc end to end", "antiword loop", "docs/s",
                        [antiword_loop(files) for _ in range(args.runs)], [], "one process, one call per file", 1))
    else:
        main_mode(args.runs, 100 if args.quick else 500, rows)
    order = {c: i for i, c in enumerate(dict.fromkeys(r.case for r in rows))}
    rows.sort(key=lambda r: order[r.case])
    print(table(rows))
    title = "End to end, scaling" if args.scaling else "End to end"
    save_rows(args.json, rows, {"title": title, "runs": args.runs, "quick": args.quick})
    return 0


if __name__ == "__main__":
    sys.exit(main())
