"""Peak memory of the gateway and a processor while a large upload streams through.

Starts ``spreadgate up`` in a temporary folder, reads each component's idle
RSS, sends one large PUT and one large multipart POST (generated on the fly,
never held in memory here either), waits for the processor to finish with
them, and prints each component's peak RSS (VmHWM) against its idle RSS.

    .venv/bin/python bench/memory.py [--mib 1024]
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from spreadgate.supervisor import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import children

BLOCK = 64 * 1024


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class Body:
    """A generated request body of known length, read in 64 KiB pieces (never held whole)."""

    def __init__(self, total: int) -> None:
        self.total, self.sent = total, 0
        self.block = secrets.token_bytes(BLOCK)

    def __len__(self) -> int:
        return self.total

    def read(self, size: int = BLOCK) -> bytes:
        piece = self.block[: max(0, min(size, BLOCK, self.total - self.sent))]
        self.sent += len(piece)
        return piece


def body(total: int) -> Iterator[bytes]:
    block = secrets.token_bytes(BLOCK)
    sent = 0
    while sent < total:
        piece = block[: min(BLOCK, total - sent)]
        sent += len(piece)
        yield piece


def multipart(total: int, boundary: str) -> Iterator[bytes]:
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big-form.bin\"\r\n"
           "Content-Type: application/octet-stream\r\n\r\n").encode()
    yield from body(total)
    yield f"\r\n--{boundary}--\r\n".encode()


def wait_final(url: str, count: int, deadline_s: float = 600) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        rows = requests.get(f"{url}/_/api/uploads", timeout=10).json()
        rows = rows["uploads"] if isinstance(rows, dict) else rows
        if len(rows) >= count and all(r["state"] in ("processed", "failed") for r in rows):
            return
        time.sleep(0.5)
    raise SystemExit("uploads did not finish in time")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="size of each upload in MiB")
    args = parser.parse_args()
    total = args.mib * 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "spreadgate", "up", "--data-dir", tmp, "--listen",
             f"127.0.0.1:{port}", "--spread-port", str(free_port()), "--log-level", "WARNING"],
            stdout=subprocess.PIPE, text=True, start_new_session=True)
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith("spreadgate is up:"):
                    break
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            url = f"http://127.0.0.1:{port}"
            time.sleep(2)
            pids = children(proc.pid)
            idle = {name: status_kib(pid, "VmRSS") for name, pid in pids.items()}
            start = time.monotonic()
            # Two names: two uploads to one path within the quiet period would be one save.
            reply = requests.put(f"{url}/big-put.bin", data=Body(total), timeout=3600)
            put_s = time.monotonic() - start
            assert reply.status_code in (201, 204), reply.text
            boundary = secrets.token_hex(16)
            reply = requests.post(f"{url}/_/upload", data=multipart(total, boundary), timeout=3600,
                                  headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                           "Accept": "application/json"})
            assert reply.status_code == 201, reply.text
            wait_final(url, 2)
            peak = {name: status_kib(pid, "VmHWM") for name, pid in pids.items()}
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    print(f"upload size: {args.mib} MiB (one PUT, one multipart POST); PUT took {put_s:.1f} s "
          f"({total / put_s / 1e6:.0f} MB/s)")
    print(f"{'component':<10} {'idle MiB':>9} {'peak MiB':>9} {'growth MiB':>11}  target: growth <= 100")
    worst = 0.0
    for name in ("gateway", "processor", "responder"):
        growth = (peak[name] - idle[name]) / 1024
        worst = max(worst, growth) if name != "responder" else worst
        print(f"{name:<10} {idle[name] / 1024:>9.1f} {peak[name] / 1024:>9.1f} {growth:>11.1f}")
    return 0 if worst <= 100 else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
