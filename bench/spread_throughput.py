"""Throughput of the embedded Spread daemon against a raw TCP relay reference, one sender, one receiver.

Every party runs in its own process: the daemon (``python -m spread.daemon``), the receiver and
the sender. The reference is a plain Python relay that accepts a receiver and a sender and
copies bytes; its sender sends the same 48-byte-header frames, one send per message, and its
receiver decodes them with the same codec. Reported: median (min–max) of the runs, messages/s
and MB/s (10^6 bytes of payload per second), and the ratio spread / reference.

    python bench/spread_throughput.py [--quick] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import spread
from spread.codec import FrameDecoder, encode_message, pad_name

SIZES = [(100, 100000), (1024, 100000), (10240, 40000), (143119, 8000)]
QUICK = [(100, 20000), (1024, 20000), (10240, 5000), (143119, 1000)]
GROUP = "bench"
DEADLINE_S = 120.0


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def first_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"process {proc.args} ended early")
    return line.strip()


# --- roles (child processes) -------------------------------------------------------------------
def role_spread_recv(addr: str, count: int) -> None:
    box = spread.connect(addr, "", 0, 0)
    box.join(GROUP)
    time.sleep(0.2)  # the join is applied before any data from a sender started later
    print("ready", flush=True)
    got = 0
    nbytes = 0
    while got < count:
        msg = box.receive(timeout=DEADLINE_S)
        if isinstance(msg, spread.RegularMessage):
            got += 1
            nbytes += len(msg.message)
    end = time.monotonic()
    print(json.dumps({"end": end, "bytes": nbytes}), flush=True)
    box.disconnect()


def role_spread_send(addr: str, count: int, size: int) -> None:
    box = spread.connect(addr, "", 0, 0)
    payload = os.urandom(size)
    print(json.dumps({"start": time.monotonic()}), flush=True)
    for _ in range(count):
        box.multicast(spread.RELIABLE_MESS, GROUP, payload)
    box.disconnect()


def role_relay() -> None:
    lst = socket.create_server(("127.0.0.1", 0))
    print(lst.getsockname()[1], flush=True)
    recv_sock, _ = lst.accept()
    send_sock, _ = lst.accept()
    for s in (recv_sock, send_sock):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray(1024 * 1024)
    mv = memoryview(buf)
    while n := send_sock.recv_into(buf):
        recv_sock.sendall(mv[:n])
    recv_sock.close()


def role_raw_recv(port: int, count: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    print("ready", flush=True)
    dec = FrameDecoder(from_daemon=True)
    buf = bytearray(256 * 1024)
    got = nbytes = 0
    while got < count:
        n = sock.recv_into(buf)
        if not n:
            break
        for frame in dec.feed(memoryview(buf)[:n]):
            got += 1
            nbytes += len(frame.data)
    print(json.dumps({"end": time.monotonic(), "bytes": nbytes}), flush=True)


def role_raw_send(port: int, count: int, size: int) -> None:
    time.sleep(0.1)  # the relay accepts the receiver first
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    me, group, payload = pad_name("#bs#localhost"), pad_name(GROUP), os.urandom(size)
    print(json.dumps({"start": time.monotonic()}), flush=True)
    for _ in range(count):
        sock.sendall(encode_message(spread.RELIABLE_MESS, me, [group], 0, payload))
    sock.close()


# --- coordinator ----------------------------------------------------------------------------
def timed_pair(
    recv: subprocess.Popen[str], send_args: list[str], size: int, count: int
) -> float:
    if first_line(recv) != "ready":
        raise RuntimeError("receiver not ready")
    sender = spawn(*send_args)
    start = json.loads(first_line(sender))["start"]
    result = json.loads(first_line(recv))
    sender.wait(DEADLINE_S)
    recv.wait(DEADLINE_S)
    if result["bytes"] != size * count:
        raise RuntimeError(f"received {result['bytes']} bytes, expected {size * count}")
    return float(result["end"] - start)


def run_spread(addr: str, size: int, count: int) -> float:
    recv = spawn("--role", "spread-recv", "--addr", addr, "--count", str(count))
    return timed_pair(
        recv,
        [
            "--role",
            "spread-send",
            "--addr",
            addr,
            "--count",
            str(count),
            "--size",
            str(size),
        ],
        size,
        count,
    )


def run_relay(size: int, count: int) -> float:
    relay = spawn("--role", "relay")
    port = first_line(relay)
    recv = spawn("--role", "raw-recv", "--port", port, "--count", str(count))
    try:
        return timed_pair(
            recv,
            [
                "--role",
                "raw-send",
                "--port",
                port,
                "--count",
                str(count),
                "--size",
                str(size),
            ],
            size,
            count,
        )
    finally:
        relay.wait(DEADLINE_S)


def start_daemon() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "spread.daemon",
            "--port",
            "0",
            "--no-unix",
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    line = first_line(proc)
    return proc, line.rsplit(" ", 1)[-1]


def summary(times: list[float], size: int, count: int) -> dict[str, float]:
    rates = sorted(count / t for t in times)
    return {
        "msgs": statistics.median(rates),
        "min": rates[0],
        "max": rates[-1],
        "mbs": statistics.median(rates) * size / 1e6,
    }


def fmt(s: dict[str, float], size: int) -> str:
    return (
        f"{s['msgs']:>9,.0f} msg/s ({s['min']:,.0f}–{s['max']:,.0f})  "
        f"{s['mbs']:>7.1f} MB/s"
    )


def coordinate(runs: int, sizes: list[tuple[int, int]]) -> int:
    daemon, addr = start_daemon()
    print(
        f"{'size':>7}  {'spread daemon':<45}{'raw TCP relay':<45}ratio msgs  ratio MB/s"
    )
    try:
        for size, count in sizes:
            sp = summary(
                [run_spread(addr, size, count) for _ in range(runs)], size, count
            )
            rf = summary([run_relay(size, count) for _ in range(runs)], size, count)
            print(
                f"{size:>7}  {fmt(sp, size):<45}{fmt(rf, size):<45}"
                f"{sp['msgs'] / rf['msgs']:>9.2f}  {sp['mbs'] / rf['mbs']:>10.2f}",
                flush=True,
            )
    finally:
        daemon.terminate()
        daemon.wait(10)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="fewer messages per size")
    p.add_argument(
        "--runs",
        type=int,
        default=3,
        help="runs per measurement (median, min, max) [3]",
    )
    p.add_argument("--role", help=argparse.SUPPRESS)
    p.add_argument("--addr", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--count", type=int, help=argparse.SUPPRESS)
    p.add_argument("--size", type=int, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    roles = {
        "spread-recv": lambda: role_spread_recv(a.addr, a.count),
        "spread-send": lambda: role_spread_send(a.addr, a.count, a.size),
        "relay": role_relay,
        "raw-recv": lambda: role_raw_recv(a.port, a.count),
        "raw-send": lambda: role_raw_send(a.port, a.count, a.size),
    }
    if a.role:
        roles[a.role]()
        return 0
    return coordinate(max(1, a.runs), QUICK if a.quick else SIZES)


if __name__ == "__main__":
    raise SystemExit(main())
