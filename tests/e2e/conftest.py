"""``spreadgate up`` started for real, as a user starts it, on free ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from spreadgate.supervisor import free_port

UP_DEADLINE_S = 60.0
FINAL = ("processed", "failed")




@dataclass
class Gateway:
    """A running ``spreadgate up`` and helpers to talk to it."""

    url: str
    proc: subprocess.Popen[str]
    output: list[str]

    def uploads(self, **params: Any) -> list[dict[str, Any]]:
        reply = requests.get(f"{self.url}/_/api/uploads", params={"limit": 1000, **params}, timeout=10)
        reply.raise_for_status()
        body = reply.json()
        return body["uploads"] if isinstance(body, dict) else body

    def wait_rows(self, count: int, deadline_s: float = 60.0, **params: Any) -> list[dict[str, Any]]:
        """Rows appear once a save settles (debounce), so wait for ``count`` of them."""
        deadline = time.monotonic() + deadline_s
        while len(rows := self.uploads(**params)) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"only {len(rows)} of {count} uploads were recorded: {rows}")
            time.sleep(0.2)
        return rows

    def wait_final(self, ids: set[int], deadline_s: float = 240.0) -> dict[int, dict[str, Any]]:
        """Poll until every id is processed or failed; fail the test with what is left."""
        deadline = time.monotonic() + deadline_s
        while True:
            rows = {row["id"]: row for row in self.uploads() if row["id"] in ids}
            pending = [i for i in ids if rows.get(i, {}).get("state") not in FINAL]
            if not pending:
                return rows
            if time.monotonic() > deadline:
                pytest.fail(f"uploads never reached a final state: {[rows.get(i) for i in pending]}")
            time.sleep(0.3)


def start_up(data_dir: Path, db_url: str, extra: list[str] | None = None) -> Gateway:
    port, spread_port = free_port(), free_port()
    argv = [sys.executable, "-m", "spreadgate", "up", "--data-dir", str(data_dir),
            "--listen", f"127.0.0.1:{port}", "--spread-port", str(spread_port), "--db", db_url,
            *(extra or [])]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    output: list[str] = []
    ready = threading.Event()

    def relay() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            if line.startswith("spreadgate is up:"):
                ready.set()

    threading.Thread(target=relay, daemon=True).start()
    if not ready.wait(UP_DEADLINE_S):
        stop_up(proc)
        pytest.fail("spreadgate up did not become ready:\n" + "".join(output))
    return Gateway(f"http://127.0.0.1:{port}", proc, output)


def stop_up(proc: subprocess.Popen[str]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return -9


@pytest.fixture
def gateway_factory(tmp_path: Path) -> Iterator[Callable[[str], Gateway]]:
    started: list[Gateway] = []

    def factory(db_url: str) -> Gateway:
        gateway = start_up(tmp_path / "var", db_url)
        started.append(gateway)
        return gateway

    yield factory
    for gateway in started:
        code = stop_up(gateway.proc)
        assert code == 0, "spreadgate up did not stop cleanly:\n" + "".join(gateway.output[-40:])
