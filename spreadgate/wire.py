"""The upload and result messages that travel over Spread, defined once.

Every spreadgate message is one Spread data message (``AGREED_MESS``) whose
payload starts with a fixed 24-byte big-endian header, so a consumer in any
language can parse it with one ``unpack``.  See ``docs/wire-format.md``.

====== ==== =========================================================
offset size field
====== ==== =========================================================
0      4    magic ``b"SGW1"``
4      1    kind (:class:`Kind`); also sent as the Spread ``msg_type``
5      1    flags: bit 0 = ``LAST`` (no more messages in this stream)
6      2    reserved, zero
8      8    upload id (unsigned)
16     4    attempt: how many times the gateway has sent this upload
20     4    seq: 0 for a stream's header message, 1..n for its chunks
====== ==== =========================================================

A stream is a header message (``FILE`` or ``RESULT``, JSON body) followed by
its chunks (``FILE_CHUNK`` or ``TEXT_CHUNK``, raw bytes) numbered from 1; the
last message of a stream carries the ``LAST`` flag (a header with no chunks
carries it itself).  Pickle is never used: JSON and raw bytes only.
"""

from __future__ import annotations

import enum
import json
import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, BinaryIO

MAGIC = b"SGW1"
HEADER = struct.Struct(">4sBBHQII")
FLAG_LAST = 0x01

#: Payload bytes per chunk.  With the header this stays below the largest
#: message a real Spread 4.4 daemon delivers safely (143,119 bytes to one
#: group), and it is a multiple of the 64 KiB disk block that performs best.
CHUNK_SIZE = 128 * 1024

UPLOAD_GROUP = "uploadfiles"
RESULT_GROUP = "uploadresponses"
#: Processors also join this group, which carries no messages, so that gateways can
#: watch its membership (a gateway joining ``uploadfiles`` would count as a processor).
WORKER_GROUP = "uploadworkers"


class Kind(enum.IntEnum):
    """What a message holds; the value is also the Spread ``msg_type``."""

    FILE = 1
    FILE_CHUNK = 2
    RESULT = 3
    TEXT_CHUNK = 4


class WireError(ValueError):
    """A payload that is not a valid spreadgate message."""


@dataclass(frozen=True)
class Envelope:
    """The fixed header of every message plus its body."""

    kind: Kind
    upload_id: int
    attempt: int
    seq: int
    last: bool
    body: bytes

    def encode(self) -> bytes:
        flags = FLAG_LAST if self.last else 0
        head = HEADER.pack(MAGIC, self.kind, flags, 0, self.upload_id, self.attempt, self.seq)
        return head + self.body

    @classmethod
    def decode(cls, payload: bytes) -> Envelope:
        if len(payload) < HEADER.size:
            raise WireError(f"message of {len(payload)} bytes is shorter than the header")
        magic, kind, flags, reserved, upload_id, attempt, seq = HEADER.unpack_from(payload)
        if magic != MAGIC:
            raise WireError(f"bad magic {magic!r}")
        try:
            kind_ = Kind(kind)
        except ValueError:
            raise WireError(f"unknown message kind {kind}") from None
        if reserved or flags & ~FLAG_LAST:
            raise WireError("reserved bits set")
        return cls(kind_, upload_id, attempt, seq, bool(flags & FLAG_LAST), payload[HEADER.size :])

    def json(self) -> dict[str, Any]:
        """The body of a header message as a JSON object."""
        try:
            value = json.loads(self.body.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            # Besides bad UTF-8 and bad JSON: integers past Python's digit limit (ValueError)
            # and arrays nested past the recursion limit; any of them would end a receiver thread.
            raise WireError(f"header body is not JSON: {str(exc)[:200]}") from exc
        if not isinstance(value, dict):
            raise WireError("header body is not a JSON object")
        return value


@dataclass(frozen=True)
class FileHeader:
    """The first message of an upload stream: what the document is."""

    path: str
    name: str
    content_type: str
    size: int
    sha256: str
    chunks: int
    chunk_size: int = CHUNK_SIZE

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileHeader:
        try:
            header = cls(**{k: data[k] for k in cls.__dataclass_fields__})
        except (KeyError, TypeError) as exc:
            raise WireError(f"file header lacks a field: {exc}") from exc
        _check_stream(header.size, header.chunks, header.chunk_size)
        return header


@dataclass(frozen=True)
class ResultHeader:
    """The first message of a result stream: how the conversion went."""

    ok: bool
    converter: str | None
    size: int
    sha256: str
    lines: int | None
    text_bytes: int
    text_sha256: str | None
    error: str | None
    duration_ms: int
    processor: str
    chunks: int
    chunk_size: int = CHUNK_SIZE
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResultHeader:
        try:
            header = cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except TypeError as exc:
            raise WireError(f"result header is malformed: {exc}") from exc
        _check_stream(header.text_bytes, header.chunks, header.chunk_size)
        return header


def _check_stream(size: int, chunks: int, chunk_size: int) -> None:
    if not all(isinstance(v, int) and v >= 0 for v in (size, chunks, chunk_size)):
        raise WireError("size, chunks and chunk_size must be non-negative integers")
    if not 0 < chunk_size <= CHUNK_SIZE:
        raise WireError(f"chunk_size {chunk_size} out of range")
    if chunks != -(-size // chunk_size):
        raise WireError(f"{chunks} chunks cannot carry {size} bytes")


def chunk_count(size: int, chunk_size: int = CHUNK_SIZE) -> int:
    return -(-size // chunk_size)


def stream(
    head_kind: Kind,
    chunk_kind: Kind,
    upload_id: int,
    attempt: int,
    header: FileHeader | ResultHeader,
    source: BinaryIO,
) -> Iterator[Envelope]:
    """Yield the messages of one stream, reading ``source`` one chunk at a time."""
    body = json.dumps(asdict(header), separators=(",", ":")).encode("utf-8")
    yield Envelope(head_kind, upload_id, attempt, 0, header.chunks == 0, body)
    for seq in range(1, header.chunks + 1):
        data = source.read(header.chunk_size)
        if not data:
            raise WireError(f"upload {upload_id}: source ended before chunk {seq}")
        yield Envelope(chunk_kind, upload_id, attempt, seq, seq == header.chunks, data)
