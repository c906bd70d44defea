"""``spreadgate responder``: records the results multicast on ``uploadresponses``.

The receiving thread only reassembles streams to disk; a writer thread puts
them in the database, retrying while the database is unreachable, so the
Spread session never stops being read (the daemon cuts off slow readers).
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading

from sqlalchemy.exc import DBAPIError

import spread
from responder.writer import Outcome, ResultWriter
from spreadgate import db, link
from spreadgate.collector import Completed, StreamCollector
from spreadgate.scratch import scratch_dir
from spreadgate.settings import Settings
from spreadgate.wire import RESULT_GROUP, Kind, ResultHeader

log = logging.getLogger(__name__)

RET_OK = 0
DB_RETRY_MAX_S = 10.0


class Recorder(threading.Thread):
    """Writes finished result streams in arrival order."""

    def __init__(self, writer: ResultWriter, stop: threading.Event) -> None:
        super().__init__(name="recorder", daemon=True)
        self.writer = writer
        self.stop = stop
        self.inbox: queue.Queue[Completed[ResultHeader] | None] = queue.Queue()

    def run(self) -> None:
        while (item := self.inbox.get()) is not None:
            try:
                self._record(item)
            finally:
                if item.path is not None:
                    item.path.unlink(missing_ok=True)

    def _record(self, item: Completed[ResultHeader]) -> None:
        upload_id = item.envelope.upload_id
        if item.error is not None:
            log.warning("upload %d: result dropped: %s", upload_id, item.error)
            return
        text = item.path.read_text("utf-8", errors="replace") if item.path else None
        delay = 0.5
        while True:
            try:
                outcome = self.writer.apply(upload_id, item.header, text)
                break
            except DBAPIError as exc:
                if self.stop.is_set():
                    log.error("upload %d: result not recorded, stopping: %s", upload_id, exc.orig)
                    return
                log.warning("upload %d: database unavailable (%s); retrying", upload_id, exc.orig)
                self.stop.wait(delay)
                delay = min(delay * 2, DB_RETRY_MAX_S)
        self._log(upload_id, item.header, outcome)

    @staticmethod
    def _log(upload_id: int, header: ResultHeader, outcome: Outcome) -> None:
        if outcome is not Outcome.APPLIED:
            log.info("upload %d: result ignored (%s)", upload_id, outcome.value)
        elif header.ok:
            log.info("upload %d: processed, %s lines by %s", upload_id, header.lines, header.converter)
        else:
            log.info("upload %d: failed: %s", upload_id, header.error)


def run(settings: Settings, stop: threading.Event) -> int:
    engine = db.make_engine(settings.db_url)
    db.migrate(engine)
    recorder = Recorder(ResultWriter(db.sessions(engine)), stop)
    recorder.start()
    work_dir = scratch_dir("responder")
    collector = StreamCollector(ResultHeader, Kind.TEXT_CHUNK, work_dir)

    def handle(mbox: spread.Mailbox, message: object) -> None:
        if isinstance(message, spread.RegularMsgType):
            done = collector.feed(message.sender, message.message)
            if done is not None:
                recorder.inbox.put(done)

    try:
        link.serve(settings.spread_daemon, "r", groups=(RESULT_GROUP,), membership=False,
                   stop=stop, handle=handle, on_connect=lambda mbox: collector.close())
    finally:
        recorder.inbox.put(None)
        recorder.join(30)
        collector.close()
        shutil.rmtree(work_dir, ignore_errors=True)
        engine.dispose()
    return RET_OK
