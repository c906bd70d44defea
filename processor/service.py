"""``spreadgate processor``: converts the uploads it owns and multicasts the results.

A receiving thread follows the membership of ``uploadfiles`` and rebuilds the
streams this processor owns into files (the work-sharing rule is in the
README: the member at ``upload_id % count`` of the sorted view, sender left
out).  It never converts: the daemon cuts off members that stop reading.  A
worker thread converts each finished file and sends its result over a second
session of its own, so a clean stop can finish the conversion under way.
"""

from __future__ import annotations

import io
import logging
import queue
import shutil
import threading
from pathlib import Path

import spread
from processor.converters import ConversionResult, convert
from processor.sandbox import Limits
from spreadgate import link
from spreadgate.collector import Completed, StreamCollector
from spreadgate.scratch import scratch_dir
from spreadgate.settings import Settings
from spreadgate.wire import (
    RESULT_GROUP,
    UPLOAD_GROUP,
    WORKER_GROUP,
    Envelope,
    FileHeader,
    Kind,
    ResultHeader,
    chunk_count,
    stream,
)

log = logging.getLogger(__name__)

RET_OK = 0


class View:
    """This processor's current view of the ``uploadfiles`` group and what it owns."""

    def __init__(self) -> None:
        self.me = ""
        self.members: tuple[str, ...] = ()

    def update(self, message: spread.MembershipMsgType) -> None:
        if message.group == UPLOAD_GROUP:
            self.members = tuple(message.members)

    def owns(self, sender: str, envelope: Envelope, header: FileHeader) -> bool:
        candidates = sorted(m for m in self.members if m != sender)
        if self.me not in candidates:
            return False
        return candidates[envelope.upload_id % len(candidates)] == self.me


class Worker(threading.Thread):
    """Converts finished files one at a time and sends their results."""

    def __init__(self, settings: Settings, work_dir: Path, stop: threading.Event) -> None:
        super().__init__(name="converter", daemon=True)
        self.settings = settings
        self.work_dir = work_dir
        self.stop_event = stop
        self.inbox: queue.Queue[Completed[FileHeader] | None] = queue.Queue()
        self.limits = Limits(settings.processor_timeout_s, settings.processor_memory_mb)
        self.converted = 0
        self.identity = ""  # the receiving member's private group, named in results

    def run(self) -> None:
        mbox = None
        while (item := self.inbox.get()) is not None:
            try:
                result = self._convert(item)
                if mbox is None:
                    # Its own event: a clean stop still sends the result of this conversion.
                    mbox = link.connect(self.settings.spread_daemon, "q", stop=threading.Event())
                if mbox is not None:
                    self._send(mbox, item, result)
            except spread.error as exc:
                log.warning("upload %d: result not sent (%s); the gateway will send it again",
                            item.envelope.upload_id, exc)
                mbox = None
            finally:
                if item.path is not None:
                    item.path.unlink(missing_ok=True)
            if self.stop_event.is_set():
                break
        if mbox is not None:
            mbox.disconnect()

    def _convert(self, item: Completed[FileHeader]) -> ConversionResult:
        upload_id = item.envelope.upload_id
        if item.path is None:
            log.warning("upload %d: %s", upload_id, item.error)
            return ConversionResult(False, None, None, None, 0, None, item.error, 0)
        result = convert(item.path, self.work_dir, self.limits)
        if result.ok:
            log.info("upload %d: %s converted by %s, %d lines in %d ms", upload_id,
                     item.header.name, result.converter, result.lines, result.duration_ms)
        else:
            log.info("upload %d: %s not converted: %s", upload_id, item.header.name, result.error)
        return result

    def _send(self, mbox: spread.Mailbox, item: Completed[FileHeader], result: ConversionResult) -> None:
        header = ResultHeader(result.ok, result.converter, item.header.size, item.header.sha256,
                              result.lines, result.text_bytes, result.text_sha256, result.error,
                              result.duration_ms, self.identity or mbox.private_group,
                              chunk_count(result.text_bytes))
        text = result.text_path.open("rb") if result.text_path else io.BytesIO()
        try:
            with text:
                for env in stream(Kind.RESULT, Kind.TEXT_CHUNK, item.envelope.upload_id,
                                  item.envelope.attempt, header, text):
                    mbox.multicast(spread.AGREED_MESS, RESULT_GROUP, env.encode(), int(env.kind))
        finally:
            if result.text_path:
                result.text_path.unlink(missing_ok=True)
        self.converted += 1


def run(settings: Settings, stop: threading.Event) -> int:
    work_dir = scratch_dir("processor", settings.processor_work_dir or None)
    view = View()
    collector = StreamCollector(FileHeader, Kind.FILE_CHUNK, work_dir, accept=view.owns)
    worker = Worker(settings, work_dir, stop)
    worker.start()

    def connected(mbox: spread.Mailbox) -> None:
        view.me, view.members = mbox.private_group, ()
        collector.close()  # streams of the previous session can no longer complete
        worker.identity = mbox.private_group

    def handle(mbox: spread.Mailbox, message: object) -> None:
        if isinstance(message, spread.MembershipMsgType):
            view.update(message)
        elif isinstance(message, spread.RegularMsgType):
            done = collector.feed(message.sender, message.message)
            if done is not None:
                log.info("upload %d: received %s (%d bytes) from %s", done.envelope.upload_id,
                         done.header.name, done.header.size, message.sender)
                worker.inbox.put(done)

    try:
        link.serve(settings.spread_daemon, "p", groups=(UPLOAD_GROUP, WORKER_GROUP),
                   membership=True, stop=stop, handle=handle, on_connect=connected)
    finally:
        worker.inbox.put(None)
        worker.join(settings.processor_timeout_s + 10)
        collector.close()
        shutil.rmtree(work_dir, ignore_errors=True)
    return RET_OK
