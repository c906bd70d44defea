"""The thread that puts finished result streams into the database, riding out outages.

Results wait on disk (the spooled text files) in arrival order.  While the
database is unreachable a result is retried with back-off until it is
written or the responder stops; receiving from Spread never waits for this
thread.  A result the database refuses outright (a value it will not take)
is recorded as a failure with the database's reason, so the upload still
reaches a final state instead of being sent round again and again.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from responder.errors import MalformedResult
from responder.writer import Outcome, ResultWriter
from spreadgate.collector import Completed
from spreadgate.logs import upload_log
from spreadgate.wire import ResultHeader

log = logging.getLogger(__name__)

RETRY_START_S = 0.2
RETRY_MAX_S = 10.0
#: Errors that mean "the database is not answering now", not "it refuses this result".
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


class Recorder(threading.Thread):
    """Writes finished result streams handed to :meth:`put`, one at a time."""

    def __init__(self, writer: ResultWriter, stop: threading.Event) -> None:
        super().__init__(name="responder-recorder", daemon=True)
        self.writer = writer
        self.stop = stop
        self._inbox: queue.Queue[Completed[ResultHeader] | None] = queue.Queue()

    def put(self, item: Completed[ResultHeader]) -> None:
        self._inbox.put(item)

    def close(self, timeout: float) -> None:
        """Finish the queued results (one try each once stopping) and end the thread."""
        self._inbox.put(None)
        self.join(timeout)

    def run(self) -> None:
        while (item := self._inbox.get()) is not None:
            try:
                self._record(item)
            finally:
                if item.path is not None:
                    item.path.unlink(missing_ok=True)

    def _record(self, item: Completed[ResultHeader]) -> None:
        upload_id, header = item.envelope.upload_id, item.header
        if item.error is not None:
            upload_log(log, upload_id).warning("result dropped: %s", item.error)
        elif header.ok and not isinstance(header.text_sha256, str):
            upload_log(log, upload_id).warning("result dropped: its text has no sha256")
        else:
            try:
                text, whole = self._read(item)
            except OSError as exc:
                upload_log(log, upload_id).error("result dropped: spooled text unreadable: %s", exc)
                return
            self._write(upload_id, header, text, whole)

    def _read(self, item: Completed[ResultHeader]) -> tuple[str | None, bool]:
        """The text (only as much as can be stored) and whether that is all of it."""
        if not item.header.ok or item.path is None:
            return None, True
        with item.path.open("rb") as source:
            # A few bytes past the cap let the writer see, and mark, the cut.
            data = source.read(self.writer.max_text_bytes + 4)
            whole = not source.read(1)
        return data.decode("utf-8", "replace"), whole

    def _write(self, upload_id: int, header: ResultHeader, text: str | None, whole: bool) -> None:
        delay, substituted = RETRY_START_S, False
        while True:
            try:
                outcome = self.writer.apply(upload_id, header, text, whole=whole)
            except MalformedResult as exc:
                upload_log(log, upload_id).warning("result dropped: %s", exc)
                return
            except UNAVAILABLE as exc:
                if self.stop.is_set():
                    upload_log(log, upload_id).error("result not recorded, stopping: %s", _reason(exc))
                    return
                upload_log(log, upload_id).warning("database unavailable (%s); retrying in %.1f s",
                                                   _reason(exc), delay)
                self.stop.wait(delay)
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            except DBAPIError as exc:
                upload_log(log, upload_id).error("the database refused the result: %s", _reason(exc))
                if substituted:
                    return
                header, text, substituted = refused(header, exc), None, True
                continue
            log_outcome(upload_id, header, outcome)
            return


def refused(header: ResultHeader, exc: DBAPIError) -> ResultHeader:
    """A failed result standing in for one the database would not store."""
    return dataclasses.replace(header, ok=False, lines=None,
                               error=f"the database refused the result: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def log_outcome(upload_id: int, header: ResultHeader, outcome: Outcome) -> None:
    if outcome is not Outcome.APPLIED:
        upload_log(log, upload_id).info("result ignored (%s)", outcome.value)
    elif header.ok:
        upload_log(log, upload_id).info("processed, %d lines by %s", header.lines or 0, header.converter)
    else:
        upload_log(log, upload_id).info("failed: %s", header.error)
