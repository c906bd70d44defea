"""A real gateway under attack: raw HTTP exchanges, and a check that nothing outside the share changed."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.gateway.running import RunningGateway, embedded_daemon, running_gateway

DEADLINE_S = 30.0
PIECE = 64 * 1024
SECRET = b"sentinel: must never be read, replaced or removed\n"
# What the gateway itself keeps beside the share; everything else outside it must stay as it was.
OWN = ("share", "blobs", "state", "spreadgate.db")


@dataclass
class Target:
    """A running gateway, its port, and a sentinel file next to its share."""

    gateway: RunningGateway
    port: int
    root: Path

    @property
    def share(self) -> Path:
        return self.gateway.share

    @property
    def sentinel(self) -> Path:
        return self.gateway.data_dir / "sentinel.txt"

    def outside(self) -> dict[str, bytes]:
        """Every file under the test's folder that is not the gateway's own, with its content."""
        data = self.gateway.data_dir
        found = {}
        for path in self.root.rglob("*"):
            rel = path.relative_to(data).parts if path.is_relative_to(data) else ()
            if path.is_file() and not (rel and rel[0].startswith(OWN)):
                found[path.relative_to(self.root).as_posix()] = path.read_bytes()
        return found

    def exchange(self, raw: bytes) -> tuple[int, bytes]:
        """Send raw bytes on a new connection; the status and body of the answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=DEADLINE_S) as sock:
            sock.sendall(raw)
            return parse(read_answer(sock))

    def send(self, method: str, target: str, body: bytes = b"", headers: str = "") -> tuple[int, bytes]:
        head = (f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
                f"{headers}Connection: close\r\n\r\n")
        return self.exchange(head.encode("utf-8", "surrogateescape") + body)


def read_answer(sock: socket.socket) -> bytes:
    """The whole answer: the server closes the connection after it (we asked it to)."""
    data = b""
    while piece := sock.recv(PIECE):
        data += piece
    return data


def parse(answer: bytes) -> tuple[int, bytes]:
    """The status (0 when the server closed without answering) and the body."""
    head, _, body = answer.partition(b"\r\n\r\n")
    words = head.split(b" ", 2)
    return (int(words[1]) if len(words) > 1 else 0), body


@contextmanager
def target(root: Path, **overrides: object) -> Iterator[Target]:
    """A gateway with its data folder under ``root``, a sentinel beside the share and one beside ``root``'s data."""
    data_dir = root / "var"
    data_dir.mkdir(parents=True)
    (root / "sentinel.txt").write_bytes(SECRET)
    (data_dir / "sentinel.txt").write_bytes(SECRET)
    with embedded_daemon() as daemon, running_gateway(data_dir, daemon.address, **overrides) as gateway:
        yield Target(gateway, int(gateway.server.bind_addr[1]), root)
