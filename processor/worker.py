"""The converting side of a processor: takes spooled files, converts them, multicasts results.

Each worker sends over a Spread session of its own, so a clean stop can still
deliver the result of the conversion under way after the receiver has left.
"""

from __future__ import annotations

import io
import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import spread
from processor.converters import ConversionResult, convert
from processor.receiver import Job, Newest
from processor.sandbox import Limits
from spreadgate import link
from spreadgate.logs import upload_log
from spreadgate.wire import RESULT_GROUP, Kind, ResultHeader, chunk_count, stream

log = logging.getLogger(__name__)

SEND_TRIES = 2


class Worker(threading.Thread):
    """Converts jobs one at a time until it takes ``None`` from the queue."""

    def __init__(self, number: int, daemon: str, work_dir: Path, limits: Limits, *,
                 jobs: queue.Queue[Job | None], newest: Newest, identity: Callable[[], str],
                 stop: threading.Event, halt: threading.Event) -> None:
        super().__init__(name=f"converter-{number}", daemon=True)
        self.daemon_address = daemon
        self.work_dir = work_dir
        self.limits = limits
        self.jobs = jobs
        self.newest = newest
        self.identity = identity
        self.stop = stop  # set: convert nothing new
        self.halt = halt  # set: give up reconnecting to deliver a result
        self.mbox: spread.Mailbox | None = None
        self.converted = 0

    def run(self) -> None:
        try:
            while (job := self.jobs.get()) is not None:
                try:
                    self._take(job)
                finally:
                    if job.path is not None:
                        job.path.unlink(missing_ok=True)
        finally:
            self._disconnect()

    def _take(self, job: Job) -> None:
        upload_id, attempt = job.envelope.upload_id, job.envelope.attempt
        if self.stop.is_set():
            upload_log(log, upload_id).info("not converted, the processor is stopping")
        elif self.newest.superseded(upload_id, attempt):
            upload_log(log, upload_id).info("attempt %d skipped, a newer attempt is queued", attempt)
        else:
            result = self._convert(job)
            try:
                self._deliver(job, result)
            finally:
                if result.text_path is not None:
                    result.text_path.unlink(missing_ok=True)

    def _convert(self, job: Job) -> ConversionResult:
        upload_id = job.envelope.upload_id
        if job.path is None:
            reason = job.error or "stream incomplete"
            if "sha256" in reason:
                reason = f"sha256 mismatch: {reason}"
            return ConversionResult.failed(reason)
        try:
            result = convert(job.path, self.work_dir, self.limits)
        except Exception as exc:  # a converter bug must not end the worker; the uploader gets a reason
            upload_logger = upload_log(log, upload_id)
            upload_logger.exception("conversion raised")
            return ConversionResult.failed(f"processor error: {type(exc).__name__}: {exc}")
        if result.ok:
            upload_log(log, upload_id).info("%s converted by %s, %d lines in %d ms", job.header.name,
                                            result.converter, result.lines, result.duration_ms)
        else:
            upload_log(log, upload_id).info("%s not converted: %s", job.header.name, result.error)
        return result

    def _deliver(self, job: Job, result: ConversionResult) -> None:
        for _ in range(SEND_TRIES):
            if self.mbox is None:
                self.mbox = link.connect(self.daemon_address, "q", stop=self.halt)
                if self.mbox is None:
                    break
            try:
                self._send(self.mbox, job, result)
                self.converted += 1
                return
            except (spread.error, OSError) as exc:
                upload_log(log, job.envelope.upload_id).warning("sending the result failed (%s)", exc)
                self._disconnect()
        upload_log(log, job.envelope.upload_id).warning(
            "result not sent; the gateway will send the upload again")

    def _send(self, mbox: spread.Mailbox, job: Job, result: ConversionResult) -> None:
        header = ResultHeader(result.ok, result.converter, job.header.size, job.header.sha256,
                              result.lines, result.text_bytes, result.text_sha256, result.error,
                              result.duration_ms, self.identity() or mbox.private_group,
                              chunk_count(result.text_bytes))
        text: BinaryIO = result.text_path.open("rb") if result.text_path else io.BytesIO()
        with text:
            for env in stream(Kind.RESULT, Kind.TEXT_CHUNK, job.envelope.upload_id,
                              job.envelope.attempt, header, text):
                mbox.multicast(spread.AGREED_MESS, RESULT_GROUP, env.encode(), int(env.kind))

    def _disconnect(self) -> None:
        if self.mbox is not None:
            try:
                self.mbox.disconnect()
            except (spread.error, OSError):
                log.debug("session already gone")
            self.mbox = None
