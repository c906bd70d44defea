"""Keeps reading a send-only Spread session, so that the daemon never cuts it off as a slow reader.

The forwarder's session joins no group, so nothing is expected on it; but any
client may send to its private group, and the daemon ends a session that
leaves messages unread (the embedded one after about a second with hundreds
queued).  Whatever arrives is counted and dropped.
"""

from __future__ import annotations

import logging
import threading

import spread

log = logging.getLogger(__name__)

RECEIVE_S = 0.5
# Only the first stray message and then every this many are logged: a flood must not flood the log.
LOG_EVERY = 1000


class Drain(threading.Thread):
    """Receives on ``mbox`` until it is disconnected (by its owner, or by the daemon)."""

    def __init__(self, mbox: spread.Mailbox) -> None:
        super().__init__(name="forwarder-drain", daemon=True)
        self.mbox = mbox
        self.dropped = 0

    def run(self) -> None:
        while True:
            try:
                message = self.mbox.receive(timeout=RECEIVE_S)
            except TimeoutError:
                continue
            except (spread.error, OSError, ValueError):
                return  # disconnected: the owner reconnects and starts a new drain
            self.dropped += 1
            if self.dropped % LOG_EVERY == 1:
                log.warning("dropped %d unexpected message(s) on the send-only session %s (latest from %s)",
                            self.dropped, self.mbox.private_group, getattr(message, "sender", "the daemon"))
