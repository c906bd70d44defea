"""Connections still in their handshake (§3): quota, allow list, deadlines, unique names."""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import time
from dataclasses import dataclass

from spread import constants as c
from spread.daemon.config import DaemonConfig
from spread.daemon.listen import tune
from spread.handshake import DaemonHandshake, Stage, reject_byte

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Pending:
    """A connection in its handshake, with the deadline for its next step (§3.4)."""

    sock: socket.socket
    hs: DaemonHandshake
    deadline: float
    peer: str


class Gate:
    """Accepts connections and runs their handshakes; ``names`` is shared with live sessions."""

    def __init__(
        self, config: DaemonConfig, sel: selectors.BaseSelector, names: set[str]
    ) -> None:
        self.config = config
        self.sel = sel
        self.names = names
        self.pending: dict[socket.socket, Pending] = {}

    def accept(self, listener: socket.socket, sessions: int) -> None:
        """Accept what is waiting; beyond the quota answer REJECT_QUOTA at once (§1.3)."""
        for _ in range(64):
            try:
                sock, addr = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("accept failed: %s", exc)
                return
            tcp = sock.family != socket.AF_UNIX
            tune(sock, tcp)
            if sessions + len(self.pending) >= self.config.max_sessions:
                with contextlib.suppress(OSError):
                    sock.send(reject_byte(c.REJECT_QUOTA))  # before reading anything
                sock.close()
                continue
            peer = addr[0] if tcp else "unix"
            allowed = not tcp or self.config.allows(peer)
            hs = DaemonHandshake(
                self.config.name, self._reserve, sock.fileno(), allowed=allowed
            )
            p = Pending(sock, hs, time.monotonic() + self.config.connect_timeout, peer)
            self.pending[sock] = p
            self.sel.register(sock, selectors.EVENT_READ, p)

    def _reserve(self, name: str) -> bool:
        if name in self.names:
            return False
        self.names.add(name)
        return True

    def handshake(self, p: Pending) -> Pending | None:
        """Feed readable bytes to ``p``; returns it, released from the gate, once accepted."""
        try:
            data = p.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            data = b""
        if not data:
            self.drop(p)
            return None
        before = p.hs.stage
        step = p.hs.receive_data(data)
        if step.send:
            with contextlib.suppress(OSError):
                p.sock.send(step.send)  # a few bytes into an empty socket buffer
        if step.close:
            self.drop(p)
        elif p.hs.stage is Stage.ACCEPTED:
            self.sel.unregister(p.sock)
            del self.pending[p.sock]
            return p
        elif p.hs.stage is not before:
            p.deadline = time.monotonic() + self.config.connect_timeout
        return None

    def drop(self, p: Pending) -> None:
        """Close a connection that failed or timed out, releasing its reserved name."""
        self.sel.unregister(p.sock)
        del self.pending[p.sock]
        p.sock.close()
        if p.hs.name:
            self.names.discard(p.hs.name)

    def expire(self, now: float) -> None:
        """Close connections past their deadline: silence gets a plain close (§3.4)."""
        for p in [p for p in self.pending.values() if p.deadline <= now]:
            log.debug("handshake from %s timed out", p.peer)
            self.drop(p)

    def deadlines(self) -> list[float]:
        """The deadlines the event loop must wake up for."""
        return [p.deadline for p in self.pending.values()]

    def close_all(self) -> None:
        """Close every pending connection (the daemon stops)."""
        for p in self.pending.values():
            p.sock.close()
        self.pending.clear()
