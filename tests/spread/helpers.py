"""Helpers for the spread tests: deadlines on every wait, raw sockets, frame reading."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest

import spread
from spread import codec
from spread.codec import Frame, FrameDecoder
from spread.daemon import Daemon

WAIT = 5.0  # seconds: every wait in these tests has a deadline


def receive(box: spread.Mailbox, timeout: float = WAIT) -> spread.Message:
    """The next message, or fail the test after ``timeout`` seconds."""
    return box.receive(timeout=timeout)


def nothing_arrives(box: spread.Mailbox, within: float = 0.3) -> bool:
    """True when no message arrives within ``within`` seconds."""
    try:
        msg = box.receive(timeout=within)
    except TimeoutError:
        return True
    pytest.fail(f"unexpected message {msg!r}")


def data_only(
    box: spread.Mailbox, count: int, timeout: float = WAIT
) -> list[spread.RegularMessage]:
    """The next ``count`` data messages, skipping memberships."""
    out: list[spread.RegularMessage] = []
    deadline = time.monotonic() + timeout
    while len(out) < count:
        msg = box.receive(timeout=max(0.01, deadline - time.monotonic()))
        if isinstance(msg, spread.RegularMessage):
            out.append(msg)
    return out


def wait_for(
    box: spread.Mailbox,
    predicate: Callable[[spread.Message], bool],
    timeout: float = WAIT,
) -> spread.Message:
    """Skip messages until one satisfies ``predicate``."""
    deadline = time.monotonic() + timeout
    while True:
        msg = box.receive(timeout=max(0.01, deadline - time.monotonic()))
        if predicate(msg):
            return msg


def open_raw(port: int) -> socket.socket:
    """A plain TCP socket to the daemon with a receive deadline."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    sock.settimeout(WAIT)
    return sock


def read_exact(sock: socket.socket, n: int) -> bytes:
    """Exactly ``n`` bytes, or fewer if the peer closed."""
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


def read_until_closed(sock: socket.socket, quiet: float | None = None) -> bytes:
    """Everything until EOF (or a reset), within the socket's timeout: a socket the daemon keeps open
    fails the test with TimeoutError. With ``quiet``, stop instead after that many seconds of silence."""
    out = b""
    if quiet is not None:
        sock.settimeout(quiet)
    try:
        while chunk := sock.recv(4096):
            out += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        if quiet is None:
            raise
    return out


def raw_session(
    port: int, name: str, membership: bool = True
) -> tuple[socket.socket, str]:
    """A hand-made 4.4.0 handshake (§3); returns the socket and the private group."""
    sock = open_raw(port)
    raw = name.encode()
    sock.sendall(bytes([4, 4, 0, 1 if membership else 0, len(raw)]) + raw)
    n = read_exact(sock, 1)[0]
    assert read_exact(sock, n) == b"NULL "
    sock.sendall(b"NULL".ljust(90, b"\0"))
    head = read_exact(sock, 5)
    assert head[:4] == b"\x01\x04\x04\x00", head
    return sock, read_exact(sock, head[4]).decode()


def watcher_and_victim(d: Daemon, name: str) -> tuple[spread.Mailbox, socket.socket, str]:
    """A watcher in group g, and a raw session that joined g too (so the watcher sees it leave)."""
    watcher = spread.connect(d.address, "watcher")
    watcher.join("g")
    sock, pg = raw_session(d.port, name)
    sock.sendall(codec.encode_message(spread.JOIN_MESS, codec.pad_name(pg), [codec.pad_name("g")], 0, b""))
    wait_for(watcher, lambda m: isinstance(m, spread.MembershipMessage) and pg in m.members)
    return watcher, sock, pg


class FrameReader:
    """Reads whole frames from a raw socket with the codec's decoder."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.decoder = FrameDecoder(from_daemon=True)
        self.frames: list[Frame] = []
        self.raw = bytearray()

    def next(self) -> Frame:
        """The next frame; raises on timeout or EOF."""
        while not self.frames:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("daemon closed the connection")
            self.raw += data
            self.frames.extend(self.decoder.feed(data))
        return self.frames.pop(0)


def is_disconnect_of(member: str) -> Callable[[spread.Message], bool]:
    """Predicate: a CAUSED_BY_DISCONNECT membership about ``member``."""

    def check(msg: spread.Message) -> bool:
        return (
            isinstance(msg, spread.MembershipMessage)
            and msg.reason == spread.CAUSED_BY_DISCONNECT
            and msg.changed_member == member
        )

    return check
