"""Turns messages on ``uploadresponses`` into finished result streams on disk.

Runs on the thread that reads the Spread session, so it only decodes,
appends chunks to temporary files (:class:`spreadgate.collector.StreamCollector`,
which checks each stream's order, size and text sha256) and hands finished
streams on; it never touches the database.  Malformed or incomplete streams
are logged and dropped there.  Every open stream is dropped when the session
to the daemon is renewed, since the chunks sent meanwhile are lost.

Processors send to ``uploadresponses`` without joining it, so its membership
says nothing about them; an unfinished stream of a processor that died is
dropped once a newer attempt replaces it or too many streams are open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import spread
from spreadgate.collector import Completed, StreamCollector
from spreadgate.wire import RESULT_GROUP, Kind, ResultHeader

log = logging.getLogger(__name__)


class Receiver:
    """Feeds each received message to a collector and passes on finished streams."""

    def __init__(self, directory: Path, deliver: Callable[[Completed[ResultHeader]], None]) -> None:
        self.collector = StreamCollector(ResultHeader, Kind.TEXT_CHUNK, directory)
        self.deliver = deliver

    def handle(self, _mbox: spread.Mailbox, message: object) -> None:
        """Take one message from the session (the signature of ``link.serve``'s handler)."""
        if not isinstance(message, spread.RegularMsgType) or RESULT_GROUP not in message.groups:
            return
        done = self.collector.feed(message.sender, message.message)
        if done is not None:
            self.deliver(done)

    def reset(self, _mbox: spread.Mailbox | None = None) -> None:
        """Forget every unfinished stream."""
        self.collector.close()
