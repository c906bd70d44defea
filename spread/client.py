"""Opening a session: daemon-string parsing, socket setup, the client handshake (§2, §3, §11)."""

from __future__ import annotations

import logging
import os
import socket

from spread import constants as c
from spread.errors import (
    ConnectionClosed,
    CouldNotConnect,
    IllegalSpread,
    RejectIllegalName,
    SpreadError,
)
from spread.handshake import ClientHandshake, connect_message
from spread.mailbox import Mailbox

log = logging.getLogger(__name__)

SOCKET_BUFFER = 1048576  # §2: the real library asks for 200 KiB
CONNECT_TIMEOUT = 5.0

Address = tuple[int, str | tuple[str, int]]


def parse_daemon(daemon: str | None) -> tuple[str | None, int]:
    """``"<port>"`` / ``""`` → (None, port): Unix socket; ``"<port>@<host>"`` → (host, port) (§2)."""
    spec = daemon or str(c.DEFAULT_SPREAD_PORT)
    port_s, sep, host = spec.partition("@")
    if not port_s.isdigit() or not 0 < int(port_s) < 65536 or (sep and not host):
        raise IllegalSpread(None, f"Illegal spread was provided: {daemon!r}")
    return (host if sep else None), int(port_s)


def _addresses(host: str | None, port: int) -> list[Address]:
    if host is None:
        path = f"/tmp/{port}"
        # Deliberate difference from the C library: when /tmp/<port> does not exist (or
        # refuses), fall back to TCP 127.0.0.1:<port>, so "4803" works with a TCP-only daemon.
        tcp: list[Address] = [(socket.AF_INET, ("127.0.0.1", port))]
        return ([(socket.AF_UNIX, path)] if os.path.exists(path) else []) + tcp
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise IllegalSpread(
            None, f"Illegal spread was provided: cannot resolve {host!r}"
        ) from exc
    return [(int(fam), (str(addr[0]), int(addr[1]))) for fam, _t, _p, _n, addr in infos]


def _open(addresses: list[Address], timeout: float) -> socket.socket:
    errors = []
    for family, addr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(addr)
        except OSError as exc:
            sock.close()
            errors.append(f"{addr}: {exc}")
            continue
        _tune(sock, family)
        return sock
    raise CouldNotConnect(
        None, "Could not connect. Is Spread running? " + "; ".join(errors)
    )


def _tune(sock: socket.socket, family: int) -> None:
    """TCP_NODELAY, keep-alive and larger buffers, as both real ends do (§2)."""
    for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF) if SOCKET_BUFFER else ():
        sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
    if family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)


def _handshake(
    sock: socket.socket, name: str, priority: int, membership: bool
) -> ClientHandshake:
    try:
        raw = connect_message(name, membership, priority)
    except UnicodeEncodeError as exc:
        raise RejectIllegalName(None, f"private name {name!r} is not ASCII") from exc
    if len(name) > 255:
        raise RejectIllegalName(None, "private name longer than 255 characters")
    hs = ClientHandshake(priority)
    try:
        sock.sendall(raw)  # one write: the real daemon reads it without blocking (§3.4)
        while not hs.done:
            data = sock.recv(4096)
            if not data:
                raise ConnectionClosed(
                    None, "Connection closed by spread during the handshake"
                )
            reply = hs.receive_data(data)
            if reply:
                sock.sendall(reply)
    except TimeoutError as exc:
        raise ConnectionClosed(
            None, "no answer from the daemon during the handshake"
        ) from exc
    except OSError as exc:
        raise ConnectionClosed(
            None, f"Connection closed by spread during the handshake: {exc}"
        ) from exc
    return hs


def connect(
    daemon: str = "4803@localhost",
    name: str = "",
    priority: int = 0,
    membership: int = 1,
    *,
    timeout: float = CONNECT_TIMEOUT,
    max_message: int = c.CLIENT_SAFE_MAX_BODY,
) -> Mailbox:
    """Connect to a daemon and return a Mailbox (§11).

    ``max_message`` bounds payload + 32 × groups; the default 143,151 is what a real 4.4
    daemon delivers safely (§9); the C library allows up to 144,000, the largest accepted here.
    Errors raise a SpreadError subclass (``spread.error``).
    """
    if not 0 < max_message <= c.MAX_MESSAGE_BODY_LEN:
        raise ValueError(f"max_message must be in 1..{c.MAX_MESSAGE_BODY_LEN}")
    host, port = parse_daemon(daemon)
    sock = _open(_addresses(host, port), timeout)
    try:
        hs = _handshake(sock, name, priority, bool(membership))
        sock.settimeout(None)
        box = Mailbox(sock, hs.private_group, max_message, hs.leftover)
    except (SpreadError, OSError):
        sock.close()
        raise
    log.debug("connected to %s as %s", daemon, hs.private_group)
    return box


def version() -> tuple[int, int, int]:
    """The library version this module implements, as SpreadModule's ``spread.version()``."""
    return c.LIBRARY_VERSION
