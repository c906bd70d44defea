"""What every benchmark shares: repeated timing, free ports, servers with readiness deadlines, result tables.

Each benchmark script prints its own table and, given ``--json FILE``, writes its rows there;
``bench/run_all.py`` gathers those files into ``bench/results.md``.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Self

from spreadgate.supervisor import wait_for_port

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
BLOCK = 64 * 1024
MB = 1_000_000  # figures are in MB (10^6 bytes), as dd prints them
READY_DEADLINE_S = 60.0
STOP_GRACE_S = 15.0


# --- timing --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stats:
    """Median, minimum and maximum of repeated measurements of one figure."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def text(self, digits: int = 0) -> str:
        return f"{self.median:,.{digits}f} [{self.low:,.{digits}f}–{self.high:,.{digits}f}]"


def repeat(measure: Callable[[int], float], runs: int) -> Stats:
    """Calls ``measure(run_index)`` ``runs`` times; each call returns one figure."""
    return Stats(tuple(measure(run) for run in range(runs)))


def blocks(total: int, block: bytes) -> Iterator[bytes]:
    """``total`` bytes as pieces of ``block``, generated as they are sent, never all held at once."""
    sent = 0
    while sent < total:
        piece = block if total - sent >= len(block) else block[: total - sent]
        sent += len(piece)
        yield piece


# --- processes -----------------------------------------------------------------------------------
def children(pid: int) -> dict[str, int]:
    """The component processes ``spreadgate up`` runs, by component name (from their command lines)."""
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        if b"spreadgate" in argv:
            found[argv[argv.index(b"spreadgate") + 1].decode()] = int(child)
    return found


class ServerError(RuntimeError):
    """A server under test did not start, or died."""


@dataclass
class Server:
    """A subprocess in its own session, so stopping it also stops its children (by process group)."""

    name: str
    argv: list[str]
    port: int
    ready_prefix: str | None = None  # None: ready when the port accepts connections
    env: dict[str, str] | None = None
    cwd: str | None = None
    log_path: Path | None = None
    proc: subprocess.Popen[str] | None = None
    ready_line: str = ""
    output: list[str] = field(default_factory=list)
    _ready: threading.Event = field(default_factory=threading.Event)

    def start(self, deadline_s: float = READY_DEADLINE_S) -> Server:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     bufsize=1, start_new_session=True, env=self.env, cwd=self.cwd)
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + deadline_s
        if self.ready_prefix is not None:
            while self.alive and not self._ready.wait(0.2) and time.monotonic() < deadline:
                pass
        else:
            if wait_for_port("127.0.0.1", self.port, deadline) and self.alive:
                self._ready.set()
        if not self._ready.is_set() or not self.alive:
            self.stop()
            raise ServerError(self._failure(deadline_s))
        return self

    def cause(self) -> str:
        """The last exception or ERROR line the server printed, or ''."""
        errors = ([line.strip() for line in self.output if re.match(r"\w+(Error|Exception)\b", line)]
                  or [line.strip() for line in self.output if "ERROR" in line])
        return errors[-1][:200] if errors else ""

    def _failure(self, deadline_s: float) -> str:
        assert self.proc is not None
        what = (f"exited with status {self.proc.returncode} before it was ready" if self.proc.returncode is not None
                else f"was not ready within {deadline_s:.0f} s")
        cause = f" ({self.cause()})" if self.cause() else ""
        return f"{self.name} {what}{cause}; its last lines:\n{''.join(self.output[-30:])}"

    def _drain(self) -> None:
        # Keep reading so a chatty server never blocks on a full pipe.
        assert self.proc is not None and self.proc.stdout is not None
        log = self.log_path.open("a") if self.log_path else None
        for line in self.proc.stdout:
            if len(self.output) < 2000:
                self.output.append(line)
            if log:
                log.write(line)
            if self.ready_prefix is not None and line.startswith(self.ready_prefix) and not self._ready.is_set():
                self.ready_line = line.strip()
                self._ready.set()
        if log:
            log.close()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = self.proc.pid  # its own session: the group id is its pid
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait(5)
        try:  # children that outlived their parent
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def summary(exc: BaseException) -> str:
    """The first line of an error, without the server output a ServerError carries."""
    return str(exc).split("; its last lines")[0].splitlines()[0][:200] if str(exc) else type(exc).__name__


def list_uploads(port: int, limit: int = 1000) -> list[dict[str, object]]:
    """``GET /_/api/uploads?limit=…`` of a spreadgate gateway: its newest rows."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", f"/_/api/uploads?limit={limit}")
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"GET /_/api/uploads: {resp.status} {body[:200]!r}")
        return list(json.loads(body)["uploads"])
    finally:
        conn.close()


def run_quiet(argv: Sequence[str], timeout: float = 60.0) -> str:
    done = subprocess.run(list(argv), check=False, capture_output=True, text=True, timeout=timeout)
    return (done.stdout + done.stderr).strip()


# --- results -------------------------------------------------------------------------------------
@dataclass
class Row:
    """One figure of one target; ``references`` name the rows (same ``case``) it is compared with."""

    case: str
    target: str
    unit: str
    values: list[float]
    references: list[str] = field(default_factory=list)
    note: str = ""
    digits: int = 0

    @property
    def stats(self) -> Stats:
        return Stats(tuple(self.values))


def ratio(row: Row, rows: Sequence[Row], reference: str) -> float | None:
    """Median of ``row`` over the median of the row of target ``reference`` in the same case."""
    ref = next((r for r in rows if r.case == row.case and r.target == reference and r.values), None)
    if ref is None or not row.values or ref.stats.median == 0:
        return None
    return row.stats.median / ref.stats.median


def ratio_text(row: Row, rows: Sequence[Row]) -> str:
    parts: list[str] = []
    if not row.values:
        return ""
    for reference in row.references:
        value = ratio(row, rows, reference)
        parts.append(f"n/a ({reference} not measured)" if value is None else f"{value:.2f}× {reference}")
    return "; ".join(parts)


def table(rows: Sequence[Row]) -> str:
    lines = ["| case | target | median [min–max] | unit | ratio | note |", "|---|---|---:|---|---|---|"]
    for row in rows:
        figure = row.stats.text(row.digits) if row.values else "not measured"
        lines.append(f"| {row.case} | {row.target} | {figure} | {row.unit} | {ratio_text(row, rows)} | {row.note} |")
    return "\n".join(lines)


def save_rows(path: str | None, rows: Sequence[Row], extra: dict[str, object] | None = None) -> None:
    if path:
        Path(path).write_text(json.dumps({"rows": [asdict(r) for r in rows], **(extra or {})}, indent=1))


def load_rows(path: Path) -> list[Row]:
    return [Row(**row) for row in json.loads(path.read_text())["rows"]]


def _version(argv: Sequence[str]) -> str:
    try:
        return run_quiet(argv, timeout=20).splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "not installed"


def machine() -> dict[str, str]:
    """The facts a reader needs to compare figures across runs."""
    mem_kib = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal"))
    code = ("import importlib.metadata as m; print(' '.join(f'{p} {m.version(p)}' "
            "for p in ('wsgidav', 'cheroot', 'requests', 'sqlalchemy')))")
    pkgs = _version([PYTHON, "-c", code])
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": f"{os.cpu_count()} ({cpu})",
        "memory": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "python": _version([PYTHON, "--version"]),
        "packages": pkgs,
        "nginx": _version(["nginx", "-v"]),
        "antiword": re.sub(r"\s+", " ", _version(["dpkg-query", "-W", "-f", "antiword ${Version}", "antiword"])),
        "disk": _df(),
    }


def _df() -> str:
    lines = run_quiet(["df", "-T", "/tmp"]).splitlines()
    return " ".join(lines[-1].split()[:2]) + " (/tmp)" if len(lines) > 1 else "unknown"


def machine_text(info: dict[str, str]) -> str:
    return "\n".join(f"- {key}: {value}" for key, value in info.items())
