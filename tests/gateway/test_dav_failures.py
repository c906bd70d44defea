"""WebDAV PUTs that cannot be stored: a clear error, the previous state intact, no temporary file left."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from gateway.intake import TEMP_PREFIX
from tests.gateway.running import (
    RunningGateway,
    embedded_daemon,
    running_gateway,
    wait_until,
)


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[RunningGateway]:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address) as running:
        yield running


def read_reply(sock: socket.socket) -> bytes:
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    return reply


def test_a_name_longer_than_the_file_system_allows_gets_a_400_with_the_reason(gateway: RunningGateway) -> None:
    reply = requests.put(f"{gateway.url}/{'n' * 300}.doc", data=b"x" * 100_000, timeout=10)
    assert reply.status_code == 400
    assert "longer than 255 bytes" in reply.text
    assert list(gateway.share.iterdir()) == []
    assert gateway.settled() == []


def test_a_put_whose_name_became_a_folder_meanwhile_fails_and_leaves_the_folder(gateway: RunningGateway) -> None:
    where = urlsplit(gateway.url)
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        sock.sendall(b"PUT /race.doc HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 10\r\n\r\nhalf.")
        wait_until(lambda: any(p.name.startswith(TEMP_PREFIX) for p in gateway.share.iterdir()),
                   "the PUT to start writing its temporary file")
        # While the body is still arriving, another client makes the name a folder.
        assert requests.request("MKCOL", f"{gateway.url}/race.doc", timeout=10).status_code == 201
        sock.sendall(b"rest.")
        reply = read_reply(sock)
    assert reply.startswith(b"HTTP/1.1 500"), reply[:200]
    assert b"could not store the file" in reply and b"previous version is kept" in reply
    assert [p.name for p in gateway.share.iterdir()] == ["race.doc"]
    assert (gateway.share / "race.doc").is_dir() and list((gateway.share / "race.doc").iterdir()) == []
    assert gateway.settled() == []
