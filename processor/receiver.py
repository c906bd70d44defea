"""The receiving side of a processor: follows the group view and spools the streams it owns.

It runs on the thread that reads the Spread session and never converts: the
daemon cuts off a member that stops reading.  Work sharing follows one rule
every processor evaluates alike, because all see the same total order of
messages and views: when a ``FILE`` header arrives, its owner is
``sorted(view members except the sender)[upload_id % count]``.  Owned
streams are rebuilt on disk (:class:`spreadgate.collector.StreamCollector`,
which bounds the streams open at once and drops interrupted or malformed
ones with a log line); each finished file goes on the job queue.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import OrderedDict
from pathlib import Path

import spread
from spreadgate import link
from spreadgate.collector import Completed, StreamCollector
from spreadgate.logs import upload_log
from spreadgate.wire import UPLOAD_GROUP, WORKER_GROUP, Envelope, FileHeader, Kind

log = logging.getLogger(__name__)

Job = Completed[FileHeader]
MAX_TRACKED_UPLOADS = 10_000


class View:
    """This processor's view of ``uploadfiles`` and the ownership rule over it."""

    def __init__(self) -> None:
        self.me = ""
        self.members: tuple[str, ...] = ()

    def update(self, message: spread.MembershipMsgType) -> None:
        if message.group != UPLOAD_GROUP:
            return
        if message.members:
            self.members = tuple(message.members)
        elif message.reason & spread.CAUSED_BY_LEAVE:
            self.members = ()  # this session left the group
        # A transitional view carries no members; the regular view that follows does.

    def owner(self, sender: str, upload_id: int) -> str | None:
        candidates = sorted(m for m in self.members if m != sender)
        return candidates[upload_id % len(candidates)] if candidates else None

    def owns(self, sender: str, envelope: Envelope, header: FileHeader) -> bool:
        return bool(self.me) and self.owner(sender, envelope.upload_id) == self.me


class Newest:
    """The newest attempt spooled per upload, so a worker can skip an older one still queued."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._attempts: OrderedDict[int, int] = OrderedDict()

    def note(self, upload_id: int, attempt: int) -> None:
        with self._lock:
            self._attempts[upload_id] = max(attempt, self._attempts.pop(upload_id, 0))
            while len(self._attempts) > MAX_TRACKED_UPLOADS:
                self._attempts.popitem(last=False)

    def superseded(self, upload_id: int, attempt: int) -> bool:
        with self._lock:
            return self._attempts.get(upload_id, 0) > attempt


class Receiver:
    """Reads ``uploadfiles`` until stopped, reconnecting with back-off; puts owned files on ``jobs``."""

    def __init__(self, daemon: str, work_dir: Path, jobs: queue.Queue[Job | None], newest: Newest,
                 stats: link.LinkStats | None = None) -> None:
        self.daemon = daemon
        self.jobs = jobs
        self.newest = newest
        self.stats = stats
        self.view = View()
        self.collector = StreamCollector(FileHeader, Kind.FILE_CHUNK, work_dir, accept=self.view.owns)
        self.identity = ""  # this member's private group, named in results as the processor

    def run(self, stop: threading.Event) -> None:
        """Receive until ``stop`` is set; unfinished streams are discarded on the way out."""
        try:
            link.serve(self.daemon, "p", groups=(UPLOAD_GROUP, WORKER_GROUP), membership=True,
                       stop=stop, handle=self.handle, on_connect=self.connected, stats=self.stats)
        finally:
            self.collector.close()

    def connected(self, mbox: spread.Mailbox) -> None:
        # Streams of a lost session can never complete; the gateway sends them again.
        self.collector.close()
        self.view.me, self.view.members = mbox.private_group, ()
        self.identity = mbox.private_group

    def handle(self, mbox: spread.Mailbox, message: object) -> None:
        if isinstance(message, spread.MembershipMsgType):
            self.view.update(message)
        elif isinstance(message, spread.RegularMsgType) and UPLOAD_GROUP in message.groups:
            done = self.collector.feed(message.sender, message.message)
            if done is not None:
                self._spooled(done, message.sender)

    def _spooled(self, done: Job, sender: str) -> None:
        upload_id = done.envelope.upload_id
        if done.path is None:
            upload_log(log, upload_id).warning("stream from %s refused: %s", sender, done.error)
        else:
            upload_log(log, upload_id).info("received %s (%d bytes) from %s", done.header.name,
                                            done.header.size, sender)
        self.newest.note(upload_id, done.envelope.attempt)
        self.jobs.put(done)
