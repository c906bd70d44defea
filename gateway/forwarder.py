"""Sends recorded uploads over Spread, and sends again what got no answer in time.

Runs in its own thread, off every request's path: an upload is committed by
the intake, which wakes the forwarder; rows in ``received`` are sent, rows in
``sent`` longer than the retry period are sent again (at-least-once; the
processors and the responder are idempotent).  A watcher follows the
processors' group: when a processor leaves or dies, every upload still
waiting for a result is sent again at once instead of after the retry period.  While the Spread daemon is
down nothing is lost: rows wait in ``received`` and the forwarder reconnects.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

import spread
from gateway.blobs import BlobStore
from gateway.drain import Drain
from spreadgate import link
from spreadgate.logs import upload_log
from spreadgate.models import State, UploadedFile, utcnow
from spreadgate.wire import (
    UPLOAD_GROUP,
    WORKER_GROUP,
    FileHeader,
    Kind,
    chunk_count,
    stream,
)

log = logging.getLogger(__name__)

POLL_S = 1.0
BATCH = 50
# States in which an upload still waits for a result.
UNANSWERED = (State.RECEIVED.value, State.SENT.value)
SENDER_ROLE = "g"
DRAIN_JOIN_S = 5.0
WATCHER_ROLE = "w"


class Forwarder(threading.Thread):
    """The gateway's one sender on the ``uploadfiles`` group."""

    def __init__(self, daemon: str, sessions: sessionmaker[Session], blobs: BlobStore,
                 retry_after_s: float,
                 groups_for: Callable[[str], tuple[str, ...]] = lambda path: (UPLOAD_GROUP,),
                 stats: link.LinkStats | None = None) -> None:
        super().__init__(name="forwarder", daemon=True)
        self.groups_for = groups_for
        self.daemon_name = daemon
        self.sessions = sessions
        self.blobs = blobs
        self.retry_after = timedelta(seconds=retry_after_s)
        self.stop_event = threading.Event()
        self._wake = threading.Event()
        self._mbox: spread.Mailbox | None = None
        self._drain: Drain | None = None
        self.sent = 0
        self.resent = 0
        self.stats = stats or link.LinkStats()
        # Replaced whole (never mutated) so that the pages' threads read a consistent tuple.
        self._members: tuple[str, ...] = ()
        self._watcher = threading.Thread(target=self._watch, name="processor-watcher", daemon=True)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self.stop_event.set()
        self._wake.set()

    def run(self) -> None:
        self._watcher.start()
        while not self.stop_event.is_set():
            self._wake.clear()
            try:
                while self._forward_batch() == BATCH and not self.stop_event.is_set():
                    pass
            except spread.error as exc:
                log.warning("lost the Spread daemon while sending (%s); will reconnect", exc)
                self._drop_mailbox()
            self._wake.wait(POLL_S)
        self._drop_mailbox()
        self._watcher.join(5)

    @property
    def processors(self) -> tuple[str, ...]:
        """The private names of the processors in ``uploadworkers`` now; none while the watcher is cut off."""
        return self._members if self.spread_connected else ()

    @property
    def spread_connected(self) -> bool:
        """Whether the watcher's session to the Spread daemon is up (the sender connects on demand)."""
        return self.stats.live(WATCHER_ROLE) > 0

    def _watch(self) -> None:
        link.serve(self.daemon_name, WATCHER_ROLE, groups=(WORKER_GROUP,), membership=True,
                   stop=self.stop_event, handle=self._membership, stats=self.stats)

    def _membership(self, mbox: spread.Mailbox, message: object) -> None:
        """Re-send on a processor's departure, and when the first processor arrives."""
        if not isinstance(message, spread.MembershipMsgType) or not message.members:
            return
        members = tuple(sorted(m for m in message.members if m != mbox.private_group))
        departed = spread.CAUSED_BY_LEAVE | spread.CAUSED_BY_DISCONNECT | spread.CAUSED_BY_NETWORK
        if message.reason & departed:
            self.resend_in_flight(f"{message.changed_member or 'a processor'} left")
        elif members and not self._members:
            self.resend_in_flight("a processor joined")
        self._members = members

    def resend_in_flight(self, why: str) -> None:
        """Make every upload that is waiting for a result due now."""
        with self.sessions.begin() as session:
            result = session.execute(update(UploadedFile)
                                     .where(UploadedFile.state == State.SENT.value)
                                     .values(state=State.RECEIVED.value, updated_at=utcnow()))
            count = cast(CursorResult[Any], result).rowcount
        if count:
            log.info("%s: sending %d unanswered upload(s) again", why, count)
            self.wake()

    def _due(self) -> list[UploadedFile]:
        stale = utcnow() - self.retry_after
        query = (select(UploadedFile)
                 .where(or_(UploadedFile.state == State.RECEIVED.value,
                            (UploadedFile.state == State.SENT.value) & (UploadedFile.sent_at < stale)))
                 .order_by(UploadedFile.id).limit(BATCH))
        with self.sessions() as session:
            return list(session.scalars(query))

    def _forward_batch(self) -> int:
        rows = self._due()
        if not rows:
            return 0
        mbox = self._mailbox()
        if mbox is None:
            return 0
        sent: list[tuple[int, int]] = []
        try:
            for row in rows:
                if self._forward(mbox, row):
                    sent.append((row.id, row.attempts + 1))
        finally:
            # Marked once the batch is out (or the daemon is lost): a crash before this sends
            # them again, which the responder and the processors take as a newer attempt.
            self._mark_sent(sent)
        return len(rows)

    def _forward(self, mbox: spread.Mailbox, row: UploadedFile) -> bool:
        """Send one upload's bytes; False when they are missing (the row is marked failed)."""
        blob = self.blobs.path_for(row.sha256)
        attempt = row.attempts + 1
        try:
            source = blob.open("rb")
        except FileNotFoundError:
            upload_log(log, row.id).error("stored bytes missing at %s", blob)
            with self.sessions.begin() as session:
                session.execute(update(UploadedFile)
                                .where(UploadedFile.id == row.id, UploadedFile.state.in_(UNANSWERED))
                                .values(state=State.FAILED.value, error="stored bytes missing",
                                        processed_at=utcnow(), updated_at=utcnow()))
            return False
        header = FileHeader(row.path, row.name, row.content_type, row.size, row.sha256,
                            chunk_count(row.size))
        groups = self.groups_for(row.path)
        with source:
            for envelope in stream(Kind.FILE, Kind.FILE_CHUNK, row.id, attempt, header, source):
                # One message to several groups (fan-out): each member gets one copy.
                mbox.multigroup_multicast(spread.AGREED_MESS, groups, envelope.encode(),
                                          int(envelope.kind))
        self.sent += 1
        if attempt > 1:
            self.resent += 1
        upload_log(log, row.id).info("sent (attempt %d, %d bytes)", attempt, row.size)
        return True

    def _mark_sent(self, sent: list[tuple[int, int]]) -> None:
        """Mark uploads sent, in one transaction, unless the responder has already given one a
        final state."""
        if not sent:
            return
        table = cast(Table, UploadedFile.__table__)
        now = utcnow()
        statement = (update(table)
                     .where(table.c.id == bindparam("upload_id"),
                            # not IN: an expanding parameter cannot be sent with executemany
                            or_(*(table.c.state == state for state in UNANSWERED)))
                     .values(state=State.SENT.value, attempts=bindparam("attempt"), sent_at=now,
                             updated_at=now))
        with self.sessions.begin() as session:
            session.connection().execute(statement, [{"upload_id": upload_id, "attempt": attempt}
                                                     for upload_id, attempt in sent])

    def _mailbox(self) -> spread.Mailbox | None:
        if self._mbox is None:
            self._mbox = link.connect(self.daemon_name, SENDER_ROLE, stop=self.stop_event, stats=self.stats)
            if self._mbox is not None:
                self._drain = Drain(self._mbox)
                self._drain.start()
        return self._mbox

    def _drop_mailbox(self) -> None:
        if self._mbox is not None:
            self.stats.closed(SENDER_ROLE)
            try:
                self._mbox.disconnect()
            except spread.error:
                pass
            self._mbox = None
        if self._drain is not None:
            self._drain.join(DRAIN_JOIN_S)
            self._drain = None
