"""Uploads a steady stream of real documents while components are killed with SIGKILL.

Every component runs as its own process, started the way an operator starts
it (``python -m spreadgate NAME``).  While an uploader PUTs documents, a
killer SIGKILLs the chosen components at random moments and restarts them.
Afterwards every upload that was answered 2xx must reach a final state with
exactly one row, the right line count, and no temporary files left behind.

A long run: ``.venv/bin/python -m tests.e2e.crashkit --uploads 1000 --kills 6``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import requests
from sqlalchemy import select

from spreadgate import db
from spreadgate.models import UploadedFile
from spreadgate.supervisor import free_port

TARGETS = ("processor", "responder", "gateway", "daemon")
NO_KILLS = "none"
FINAL = ("processed", "failed")




@dataclass
class Proc:
    name: str
    argv: list[str]
    log: Path
    env: dict[str, str]
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, env=self.env)

    def kill(self) -> None:
        assert self.popen is not None
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait()

    def stop(self) -> int:
        if self.popen is None or self.popen.poll() is not None:
            return 0 if self.popen is None else self.popen.returncode
        self.popen.terminate()
        try:
            return self.popen.wait(60)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()


@dataclass
class Report:
    target: str
    accepted: int = 0
    refused: int = 0
    processed: int = 0
    failed: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    wrong_lines: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    kills: int = 0
    by_processor: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (f"crash run ({self.target}, {self.kills} kills): accepted {self.accepted}, "
                f"processed {self.processed}, failed {self.failed}, lost {len(self.lost)}, "
                f"duplicated {len(self.duplicated)}, wrong lines {len(self.wrong_lines)}, "
                f"leftover files {len(self.leftovers)} (refused while down: {self.refused}); "
                f"converted per processor: {sorted(self.by_processor.values(), reverse=True)}")


class Cluster:
    """The embedded daemon, a gateway, a responder and two processors, as separate processes."""

    def __init__(self, run_dir: Path, retry_after_s: float = 4.0, db_url: str | None = None,
                 log_format: str = "text") -> None:
        self.run_dir = run_dir
        self.data_dir = run_dir / "data"
        self.scratch = run_dir / "scratch"
        self.scratch.mkdir(parents=True)
        self.spread_port, self.http_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.db_url = db_url or f"sqlite:///{self.data_dir / 'spreadgate.db'}"
        config = run_dir / "spreadgate.toml"
        config.write_text(f"[gateway]\nretry_after_s = {retry_after_s}\n"
                          f"[processor]\nwork_dir = \"{self.scratch}\"\ntimeout_s = 30.0\n")
        env = {**os.environ, "TMPDIR": str(self.scratch)}
        base = [sys.executable, "-m", "spreadgate"]
        common = ["--config", str(config), "--log-format", log_format,
                  "--spread", f"{self.spread_port}@127.0.0.1"]
        stored = ["--data-dir", str(self.data_dir), "--db", self.db_url]

        def proc(name: str, argv: list[str]) -> Proc:
            return Proc(name, argv, run_dir / f"{name}.log", env)

        self.daemon = proc("daemon", [*base, "spreadd", "--log-format", log_format, "--port", str(self.spread_port)])
        self.gateway = proc("gateway", [*base, "gateway", *common, *stored,
                                        "--listen", f"127.0.0.1:{self.http_port}"])
        self.responder = proc("responder", [*base, "responder", *common, *stored])
        # A processor needs no database and no data folder, as on a host of its own.
        self.processors = [proc(f"processor{i}", [*base, "processor", *common]) for i in (1, 2)]

    @property
    def procs(self) -> list[Proc]:
        return [self.daemon, self.responder, *self.processors, self.gateway]

    def start(self) -> None:
        engine = db.make_engine(self.db_url)
        db.migrate(engine)
        engine.dispose()
        for proc in self.procs:
            proc.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.request("MKCOL", f"{self.url}/crash", timeout=5)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("the gateway did not start")

    def victim(self, target: str, rng: random.Random) -> Proc:
        if target == "processor":
            return rng.choice(self.processors)
        return {"responder": self.responder, "gateway": self.gateway, "daemon": self.daemon}[target]

    def stop(self) -> list[str]:
        """Stop everything gracefully; the names of components that did not exit 0."""
        return [p.name for p in reversed(self.procs) if p.stop() != 0]


def documents(corpus: Path) -> list[tuple[Path, int]]:
    """Word files antiword converts, with their line counts."""
    expected = json.loads((corpus / "expected.json").read_text())
    return sorted((corpus / name, entry["antiword_lines"]) for name, entry in expected.items()
                  if name.endswith(".doc") and entry["antiword_exit"] == 0)


def upload_stream(cluster: Cluster, docs: list[tuple[Path, int]], count: int, rate: float,
                  report: Report) -> dict[str, int]:
    """PUT ``count`` documents at about ``rate`` per second; the accepted paths and their lines."""
    accepted: dict[str, int] = {}
    session = requests.Session()
    for n in range(count):
        path, lines = docs[n % len(docs)]
        share_path = f"/crash/{n:05d}-{path.name}"
        try:
            with path.open("rb") as body:
                reply = session.put(cluster.url + quote(share_path), data=body, timeout=30)
            ok = 200 <= reply.status_code < 300
        except requests.RequestException:
            ok, session = False, requests.Session()
        if ok:
            accepted[share_path] = lines
        else:
            report.refused += 1
        time.sleep(1 / rate)
    return accepted


def killer(cluster: Cluster, target: str, kills: int, window_s: float, rng: random.Random,
           report: Report, done: threading.Event) -> None:
    if target == NO_KILLS:
        return
    moments = sorted(rng.uniform(0.1, 0.9) * window_s for _ in range(kills))
    started = time.monotonic()
    for moment in moments:
        if done.wait(max(0.0, started + moment - time.monotonic())):
            return
        victim = cluster.victim(target, rng)
        victim.kill()
        report.kills += 1
        time.sleep(rng.uniform(0.2, 1.5))
        victim.start()


def verify(cluster: Cluster, accepted: dict[str, int], report: Report, deadline_s: float) -> None:
    engine = db.make_engine(cluster.db_url)
    end = time.monotonic() + deadline_s
    while True:
        with db.sessions(engine)() as session:
            rows = list(session.scalars(select(UploadedFile)))
        by_path: dict[str, list[UploadedFile]] = {}
        for row in rows:
            by_path.setdefault(row.path, []).append(row)
        pending = [p for p in accepted if not any(r.state in FINAL for r in by_path.get(p, []))]
        if not pending or time.monotonic() > end:
            break
        time.sleep(0.5)
    engine.dispose()
    report.accepted = len(accepted)
    report.lost = pending
    report.duplicated = [p for p, found in by_path.items() if len(found) > 1]
    for path, lines in accepted.items():
        for row in by_path.get(path, []):
            report.processed += row.state == "processed"
            report.failed += row.state == "failed"
            if row.processor:
                report.by_processor[row.processor] = report.by_processor.get(row.processor, 0) + 1
            if row.state == "processed" and row.lines != lines:
                report.wrong_lines.append(f"{path}: {row.lines} != {lines}")


def leftovers(cluster: Cluster) -> list[str]:
    temp = [str(p) for p in (cluster.data_dir / "share").rglob(".sg-upload-*")]
    return temp + [str(p) for p in cluster.scratch.iterdir()]


def crash_run(run_dir: Path, corpus: Path, target: str, uploads: int, kills: int,
              rate: float = 25.0, seed: int = 1) -> Report:
    rng = random.Random(seed)
    cluster = Cluster(run_dir)
    report = Report(target)
    cluster.start()
    done = threading.Event()
    window = uploads / rate
    thread = threading.Thread(target=killer, args=(cluster, target, kills, window, rng, report, done))
    try:
        thread.start()
        accepted = upload_stream(cluster, documents(corpus), uploads, rate, report)
        done.set()
        thread.join()
        verify(cluster, accepted, report, deadline_s=180)
    finally:
        done.set()
        failed_stops = cluster.stop()
    report.leftovers = leftovers(cluster) + [f"{name} did not stop cleanly" for name in failed_stops]
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=400, help="uploads per scenario")
    parser.add_argument("--kills", type=int, default=5, help="kills per scenario")
    parser.add_argument("--targets", default=",".join(TARGETS),
                        help="comma-separated components to kill; 'none' runs without kills")
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "corpus")
    args = parser.parse_args()
    import tempfile

    bad = 0
    for target in args.targets.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            report = crash_run(Path(tmp), args.corpus, target, args.uploads, args.kills)
        print(report.line(), flush=True)
        bad += bool(report.lost or report.duplicated or report.wrong_lines or report.leftovers)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
