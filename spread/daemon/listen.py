"""Listening sockets and not-yet-accepted connections of the daemon (§2, §3)."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket

SOCKET_BUFFER = 1048576


def tune(sock: socket.socket, tcp: bool) -> None:
    """Non-blocking, bigger buffers, TCP_NODELAY and keep-alive (§2)."""
    sock.setblocking(False)
    for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF) if SOCKET_BUFFER else ():
        sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
    if tcp:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)


def listen_tcp(host: str, port: int) -> socket.socket:
    """A non-blocking TCP listener; port 0 picks an ephemeral port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(256)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def listen_unix(path: str) -> socket.socket:
    """A Unix listener at ``path``; a stale file is removed first and the mode set to 0666 (§2)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        os.chmod(path, 0o666)
        sock.listen(256)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def proc_id(host: str) -> int:
    """The daemon's IPv4 address as an integer, for group ids (§7.2); 127.0.0.1 as fallback."""
    for candidate in (host, socket.gethostname()):
        try:
            ip = ipaddress.IPv4Address(socket.gethostbyname(candidate))
        except (OSError, ValueError):
            continue
        if not ip.is_unspecified:
            return int(ip)
    return int(ipaddress.IPv4Address("127.0.0.1"))
