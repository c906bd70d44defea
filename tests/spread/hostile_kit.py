"""Helpers for the hostile-peer tests: a session that must stay undisturbed, raw sockets from any address."""

from __future__ import annotations

import itertools
import socket
import subprocess

import spread

from .helpers import WAIT, read_exact, read_until_closed

HEALTHY_GROUP = "healthy"
_counter = itertools.count()


class Healthy:
    """A well-behaved session that proves the daemon still serves others: ``ping()`` must echo."""

    def __init__(self, address: str, name: str = "healthy") -> None:
        self.box = spread.connect(address, name, 0, 0)
        self.box.join(HEALTHY_GROUP)
        self.pings = 0

    def ping(self) -> None:
        """Send a numbered message to our own group and receive exactly it back."""
        payload = next(_counter).to_bytes(8, "big")
        self.box.multicast(spread.AGREED_MESS, HEALTHY_GROUP, payload)
        msg = self.box.receive(timeout=WAIT)
        assert isinstance(msg, spread.RegularMessage), msg
        assert msg.message == payload and msg.groups == (HEALTHY_GROUP,)
        self.pings += 1

    def close(self) -> None:
        self.box.disconnect()


def connect_from(source: str, host: str, port: int) -> socket.socket:
    """A TCP socket to ``host:port`` whose source address is ``source``."""
    sock = socket.create_connection((host, port), timeout=WAIT, source_address=(source, 0))
    sock.settimeout(WAIT)
    return sock


def handshake(sock: socket.socket, name: bytes) -> bytes:
    """A 4.4.0 connect and the NULL auth choice; returns every byte the daemon answered until it closed
    or went quiet (an accepted session stays open)."""
    sock.sendall(bytes([4, 4, 0, 1, len(name)]) + name)
    first = read_exact(sock, 1)
    if not first or first[0] >= 0x80:
        return first + read_until_closed(sock)
    listing = read_exact(sock, first[0])
    sock.sendall(b"NULL".ljust(90, b"\0"))
    return first + listing + read_until_closed(sock, quiet=0.5)


def machine_address() -> str:
    """The machine's first non-loopback IPv4 address (``hostname -I``)."""
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=True, timeout=10).stdout
    for word in out.split():
        if "." in word and not word.startswith("127."):
            return word
    raise AssertionError(f"no non-loopback IPv4 address in {out!r}")
