"""A processor started on its own, with no database, joins a running gateway and takes a share."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

from tests.e2e.conftest import Gateway


def start_processor(spread_port: int) -> tuple[subprocess.Popen[str], str]:
    """``spreadgate processor --spread PORT@127.0.0.1`` with no database; returns it and its name."""
    proc = subprocess.Popen([sys.executable, "-m", "spreadgate", "processor", "--spread",
                             f"{spread_port}@127.0.0.1"], stderr=subprocess.PIPE, text=True)
    name: list[str] = []
    joined = threading.Event()

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            found = re.search(r"connected to spread daemon \S+ as (#\S+#\S+)", line)
            if found:
                name.append(found[1])
                joined.set()

    threading.Thread(target=watch, daemon=True).start()
    assert joined.wait(30), "the processor never connected"
    return proc, name[0]


def spread_port_of(gateway: Gateway) -> int:
    argv = gateway.proc.args
    assert isinstance(argv, list)
    return int(argv[argv.index("--spread-port") + 1])


def test_a_processor_on_its_own_without_a_database_takes_part(
    gateway_factory: Any, corpus: Path, tmp_path: Path
) -> None:
    gateway = gateway_factory(f"sqlite:///{tmp_path / 'db.sqlite'}")
    proc, name = start_processor(spread_port_of(gateway))
    try:
        time.sleep(1)  # its join reaches every member before the first upload
        data = (corpus / "raw_text.doc").read_bytes()
        for n in range(10):
            assert requests.put(f"{gateway.url}/remote-{n}.doc", data=data, timeout=30).status_code == 201
        ids = {row["id"] for row in gateway.wait_rows(10)}
        rows = gateway.wait_final(ids)
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
    assert all(row["state"] == "processed" and row["lines"] == 51 for row in rows.values())
    by = [row["processor"] for row in rows.values()]
    assert 0 < by.count(name) < len(by), by
