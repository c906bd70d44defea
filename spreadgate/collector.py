"""Turns the messages of many interleaved streams into finished files on disk.

Used by the processor (file streams) and the responder (result streams).
Streams are keyed by sender, upload id and attempt; a newer attempt from the
same sender replaces an unfinished older one.  Anything malformed is logged
and dropped, never fatal: the gateway sends unanswered uploads again.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from spreadgate.assembly import AssemblyError, StreamAssembler
from spreadgate.logs import upload_log
from spreadgate.wire import Envelope, FileHeader, Kind, ResultHeader, WireError

log = logging.getLogger(__name__)

MAX_OPEN_STREAMS = 64
MAX_IGNORED = 10_000


H = TypeVar("H", FileHeader, ResultHeader)
Key = tuple[str, int, int]


def shape(header: FileHeader | ResultHeader) -> tuple[int, str | None]:
    """The byte count and sha256 a stream's chunks must add up to."""
    if isinstance(header, FileHeader):
        return header.size, header.sha256
    return header.text_bytes, header.text_sha256


@dataclass
class Completed(Generic[H]):
    """A finished stream: its header message, its header, and its bytes on disk (or why not)."""

    envelope: Envelope
    header: H
    path: Path | None
    error: str | None = None


class StreamCollector(Generic[H]):
    """Collects streams whose header is of type ``header_type``."""

    def __init__(self, header_type: type[H], chunk_kind: Kind, directory: Path,
                 accept: Callable[[str, Envelope, H], bool] = lambda *_: True) -> None:
        self.header_type: type[H] = header_type
        self.head_kind = Kind.FILE if header_type is FileHeader else Kind.RESULT
        self.chunk_kind = chunk_kind
        self.directory = directory
        self.accept: Callable[[str, Envelope, H], bool] = accept
        self._open: OrderedDict[Key, tuple[Envelope, H, StreamAssembler]] = OrderedDict()
        self._ignored: OrderedDict[Key, None] = OrderedDict()

    def feed(self, sender: str, payload: bytes) -> Completed[H] | None:
        """Take one message; return a stream once its last message has arrived."""
        try:
            envelope = Envelope.decode(payload)
            if envelope.kind == self.head_kind:
                return self._start(sender, envelope)
            if envelope.kind == self.chunk_kind:
                return self._chunk(sender, envelope)
            raise WireError(f"unexpected message kind {envelope.kind.name}")
        except WireError as exc:
            log.warning("dropped a malformed message from %s: %s", sender, exc)
            return None

    def _start(self, sender: str, envelope: Envelope) -> Completed[H] | None:
        header = self.header_type.from_json(envelope.json())
        key = (sender, envelope.upload_id, envelope.attempt)
        self._drop_older(sender, envelope.upload_id)
        if not self.accept(sender, envelope, header):
            self._ignore(key)
            return None
        size, sha = shape(header)
        assembler = StreamAssembler(upload_id=envelope.upload_id, attempt=envelope.attempt, size=size,
                                    chunks=header.chunks, sha256=sha, directory=self.directory)
        self._open[key] = (envelope, header, assembler)
        while len(self._open) > MAX_OPEN_STREAMS:
            old_key, (_, _, old) = self._open.popitem(last=False)
            upload_log(log, old_key[1]).warning("dropped an unfinished stream (too many open)")
            old.discard()
        return self._finish(key) if header.chunks == 0 else None

    def _chunk(self, sender: str, envelope: Envelope) -> Completed[H] | None:
        key = (sender, envelope.upload_id, envelope.attempt)
        if key not in self._open:
            if key not in self._ignored:
                upload_log(log, envelope.upload_id).debug("chunk of an unknown stream ignored")
            return None
        try:
            done = self._open[key][2].add(envelope)
        except AssemblyError as exc:
            upload_log(log, envelope.upload_id).warning("stream dropped: %s", exc)
            self._open.pop(key)[2].discard()
            return None
        return self._finish(key) if done else None

    def _finish(self, key: Key) -> Completed[H]:
        envelope, header, assembler = self._open.pop(key)
        try:
            return Completed(envelope, header, assembler.finish())
        except AssemblyError as exc:
            assembler.discard()
            return Completed(envelope, header, None, str(exc))

    def _drop_older(self, sender: str, upload_id: int) -> None:
        for key in [k for k in self._open if k[0] == sender and k[1] == upload_id]:
            upload_log(log, upload_id).info("attempt %d superseded", key[2])
            self._open.pop(key)[2].discard()

    def _ignore(self, key: Key) -> None:
        self._ignored[key] = None
        while len(self._ignored) > MAX_IGNORED:
            self._ignored.popitem(last=False)

    def drop_sender(self, sender: str) -> None:
        """Forget the unfinished streams of a sender that left."""
        for key in [k for k in self._open if k[0] == sender]:
            self._open.pop(key)[2].discard()

    def close(self) -> None:
        for _, _, assembler in self._open.values():
            assembler.discard()
        self._open.clear()
