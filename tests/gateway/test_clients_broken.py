"""Clients that break off: a cut chunked body, a stalled upload, a short body. None replaces or forwards anything."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.gateway.replay import sha
from tests.gateway.running import RunningGateway, embedded_daemon, running_gateway

REQUEST_TIMEOUT_S = 1.0
GOOD = b"the good version"


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[RunningGateway]:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address,
                                                      gateway_request_timeout_s=REQUEST_TIMEOUT_S) as gw:
        assert requests.put(f"{gw.url}/doc.pdf", data=GOOD, timeout=10).status_code == 201
        assert [r.sha256 for r in gw.settled()] == [sha(GOOD)]
        yield gw


def raw_put(gateway: RunningGateway, head: str, body: bytes, stall_s: float = 0.0) -> bytes:
    """Send a PUT's head and ``body`` on a raw socket, optionally stall, close our side, read the reply."""
    where = urlsplit(gateway.url)
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(f"PUT /doc.pdf HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode() + body)
        if stall_s:
            time.sleep(stall_s)
        else:
            sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def assert_untouched(gateway: RunningGateway) -> None:
    assert (gateway.share / "doc.pdf").read_bytes() == GOOD
    assert [p.name for p in gateway.share.iterdir()] == ["doc.pdf"]
    assert [r.sha256 for r in gateway.settled()] == [sha(GOOD)]


@pytest.mark.parametrize("body", [b"", b"10\r\n0123456789abcdef\r\n", b"10\r\n01234", b"10\r\n0123456789abcdef"],
                         ids=["no-chunk", "no-terminating-chunk", "cut-mid-chunk", "cut-before-crlf"])
def test_a_chunked_put_cut_short_is_refused_and_the_previous_version_stays(gateway: RunningGateway,
                                                                          body: bytes) -> None:
    reply = raw_put(gateway, "Transfer-Encoding: chunked\r\n", body)
    assert reply.startswith(b"HTTP/1.1 400"), reply[:300]
    assert_untouched(gateway)


def test_a_complete_chunked_put_still_replaces_the_document(gateway: RunningGateway) -> None:
    reply = raw_put(gateway, "Transfer-Encoding: chunked\r\n", b"4\r\nnew!\r\n0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 204"), reply[:300]
    assert [r.sha256 for r in gateway.settled()] == [sha(GOOD), sha(b"new!")]


def test_a_client_that_stalls_mid_upload_gets_an_error_and_changes_nothing(gateway: RunningGateway) -> None:
    reply = raw_put(gateway, "Content-Length: 100000\r\n", b"p" * 1000, stall_s=REQUEST_TIMEOUT_S * 4)
    # cheroot drops the connection of a timed-out request without a status: the client sees the upload fail.
    assert not reply.startswith(b"HTTP/1.1 2"), reply[:300]
    assert_untouched(gateway)


def test_a_body_shorter_than_its_content_length_is_refused(gateway: RunningGateway) -> None:
    reply = raw_put(gateway, "Content-Length: 5000\r\n", b"s" * 10)
    assert reply.startswith(b"HTTP/1.1 400"), reply[:300]
    assert_untouched(gateway)
