"""``HeadWatch``: a client gets ``HEAD_DEADLINE_S`` to send its request line and headers, whatever its pace.

cheroot gives each connection a worker thread from the moment its first byte
arrives, and its timeout counts only silence: a client that sends its headers
a byte a second holds a thread for as long as it likes, and a few dozen such
clients hold them all (slow-loris).  One watcher thread shuts the socket of a
request whose head is not complete in time, which frees its worker.
"""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
from typing import Any

from cheroot.server import HTTPConnection, HTTPRequest

log = logging.getLogger(__name__)

HEAD_DEADLINE_S = 10.0
TICK_S = 0.25


class HeadWatch(threading.Thread):
    """Shuts the sockets of requests still sending their head after the deadline."""

    def __init__(self, deadline_s: float = HEAD_DEADLINE_S) -> None:
        super().__init__(name="head-watch", daemon=True)
        self.deadline_s = deadline_s
        self._lock = threading.Lock()
        self._heads: dict[int, tuple[float, socket.socket]] = {}
        self._tokens = itertools.count()
        self._stop_event = threading.Event()

    def watch(self, sock: socket.socket) -> int:
        token = next(self._tokens)
        with self._lock:
            self._heads[token] = (time.monotonic() + self.deadline_s, sock)
        return token

    def done(self, token: int) -> None:
        with self._lock:
            self._heads.pop(token, None)

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.wait(TICK_S):
            now = time.monotonic()
            with self._lock:
                late = [token for token, (deadline, _) in self._heads.items() if deadline < now]
                socks = [self._heads.pop(token)[1] for token in late]
            for sock in socks:
                self._cut(sock)

    def _cut(self, sock: socket.socket) -> None:
        log.info("a client took over %.0f s to send its request head; connection closed", self.deadline_s)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed by the client or the server: nothing left to free


def connection_class(watch: HeadWatch) -> type[HTTPConnection]:
    """cheroot's connection class, with each request's head read under ``watch``."""

    class WatchedRequest(HTTPRequest):
        def parse_request(self) -> None:
            conn: Any = self.conn
            token = watch.watch(conn.socket)
            try:
                super().parse_request()
            finally:
                watch.done(token)

    class WatchedConnection(HTTPConnection):
        RequestHandlerClass = WatchedRequest

    return WatchedConnection
