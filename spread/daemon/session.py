"""One accepted session inside the daemon: identity, input buffer, bounded output queue (§6.2, §12)."""

from __future__ import annotations

import socket
from collections import deque
from itertools import islice

from spread.codec import pad_name

SEND_BATCH = 512  # buffers per sendmsg(); IOV_MAX is 1024 on Linux


class Session:
    """Per-session state; ``flush`` writes queued frames with large scatter/gather sends."""

    __slots__ = (
        "big",
        "bigmode",
        "bigpos",
        "dead",
        "dirty",
        "events",
        "fd",
        "groups",
        "inbuf",
        "membership",
        "name",
        "need",
        "outbytes",
        "outcount",
        "outq",
        "paused",
        "peer",
        "private_group",
        "slot",
        "sock",
        "stall_deadline",
        "targets",
        "waiters",
    )

    def __init__(
        self,
        sock: socket.socket,
        name: str,
        daemon_name: str,
        membership: bool,
        peer: str,
    ) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.name = name
        self.private_group = f"#{name}#{daemon_name}"
        self.slot = pad_name(self.private_group)
        self.targets: tuple[Session, ...] = (self,)
        self.membership = membership
        self.peer = peer
        self.inbuf = bytearray()
        self.outq: deque[bytes | bytearray | memoryview] = deque()
        self.outcount = 0
        self.outbytes = 0
        self.groups: set[bytes] = set()
        self.dead = False
        self.paused = False
        self.dirty = False
        self.events = 0
        self.waiters: set[Session] = set()
        self.stall_deadline: float | None = None
        self.need = 0  # length of the incomplete frame at the head of inbuf, once known
        self.big: bytearray | None = (
            None  # a big frame being read straight into its buffer
        )
        self.bigpos = 0
        self.bigmode = False  # the last frame was big: read the next header on its own

    def __repr__(self) -> str:
        return f"<Session {self.private_group} fd={self.fd} queued={self.outcount}>"

    def flush(self) -> int:
        """Send as much queued output as the socket takes now; returns bytes sent.

        Raises OSError (other than BlockingIOError) when the connection is broken.
        """
        q = self.outq
        total = 0
        while q:
            batch = list(islice(q, 0, SEND_BATCH))
            try:
                n = self.sock.sendmsg(batch)
            except (BlockingIOError, InterruptedError):
                break
            total += n
            full = n == sum(map(len, batch))
            self._consume(n)
            if not full:
                break
        self.outbytes -= total
        return total

    def _consume(self, n: int) -> None:
        q = self.outq
        while n:
            first = q[0]
            size = len(first)
            if n >= size:
                q.popleft()
                self.outcount -= 1
                n -= size
            else:
                q[0] = memoryview(first)[n:]
                n = 0

    def drop_output(self) -> None:
        """Forget queued output (the session is being killed, §7.5)."""
        self.outq.clear()
        self.outcount = 0
        self.outbytes = 0
