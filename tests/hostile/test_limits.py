"""Oversized bodies get 413 and store nothing; slow clients cannot starve the others."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from gateway.intake import TEMP_PREFIX
from tests.hostile.kit import DEADLINE_S, SECRET, Target, parse, read_answer, target

MIB = 1024 * 1024
SLOW_CLIENTS = 40  # more than the gateway's worker threads
DRIP_S = 0.5


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with target(tmp_path_factory.mktemp("limits"), gateway_max_upload_mb=1) as running:
        yield running
        assert running.sentinel.read_bytes() == SECRET


def leftovers(site: Target, name: str) -> list[str]:
    """Files under the share named like ``name``, and temporary files."""
    return [p.name for p in site.share.rglob("*") if name in p.name or p.name.startswith(TEMP_PREFIX)]


def test_a_put_announced_above_the_limit_gets_413_before_its_body_is_sent(small: Target) -> None:
    head = f"PUT /huge.bin HTTP/1.1\r\nHost: x\r\nContent-Length: {2 * MIB}\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", small.port), timeout=DEADLINE_S) as sock:
        sock.sendall(head.encode())
        status, body = parse(read_answer(sock))
    assert status == 413
    assert b"exceeds the maximum" in body
    assert leftovers(small, "huge") == []
    assert small.send("PUT", "/good.bin", b"x" * 1000)[0] == 201


def test_a_chunked_put_that_grows_past_the_limit_gets_413_and_stores_nothing(small: Target) -> None:
    piece = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
    with socket.create_connection(("127.0.0.1", small.port), timeout=DEADLINE_S) as sock:
        sock.sendall(b"PUT /chunked.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     b"Connection: close\r\n\r\n")
        try:
            for _ in range(2 * MIB // 0x10000):
                sock.sendall(piece)
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may stop reading once it has refused the body
        status, body = parse(read_answer(sock))
    assert status == 413, body
    assert b"exceeds the upload limit" in body
    assert leftovers(small, "chunked") == []
    assert small.send("PUT", "/good2.bin", b"x" * 1000)[0] == 201


def drip(socks: list[socket.socket], stop: threading.Event) -> None:
    """Send one more byte of a never-ending header on every connection, now and then."""
    while not stop.wait(DRIP_S):
        for sock in socks:
            try:
                sock.sendall(b"X")
            except OSError:
                pass  # the gateway closed it: what it should do


def test_slow_clients_sending_headers_byte_by_byte_do_not_stop_others_being_served(small: Target) -> None:
    socks = [socket.create_connection(("127.0.0.1", small.port), timeout=DEADLINE_S)
             for _ in range(SLOW_CLIENTS)]
    stop = threading.Event()
    dripper = threading.Thread(target=drip, args=(socks, stop), daemon=True)
    try:
        for sock in socks:
            sock.sendall(b"GET /slow HTTP/1.1\r\nX-Slow: ")
        dripper.start()
        status, body = small.send("GET", "/_/api/uploads")
        assert status == 200, body
        assert small.send("PUT", "/good-after-slow.txt", b"fine")[0] == 201
    finally:
        stop.set()
        if dripper.is_alive():
            dripper.join(DEADLINE_S)
        for sock in socks:
            sock.close()
