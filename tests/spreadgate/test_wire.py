"""The message contract: every field round-trips and malformed payloads are refused."""

import hashlib
import io
import json
import struct

import pytest

from spreadgate.wire import (
    CHUNK_SIZE,
    HEADER,
    Envelope,
    FileHeader,
    Kind,
    ResultHeader,
    WireError,
    chunk_count,
    stream,
)


def file_header(size: int) -> FileHeader:
    return FileHeader("/a b/ü.doc", "ü.doc", "application/msword", size, "0" * 64, chunk_count(size))


def test_an_envelope_round_trips_every_field() -> None:
    env = Envelope(Kind.FILE_CHUNK, 2**63 + 5, 7, 3, True, b"\x00body")
    assert Envelope.decode(env.encode()) == env


def test_the_header_is_24_big_endian_bytes_any_language_can_unpack() -> None:
    raw = Envelope(Kind.RESULT, 1, 2, 0, False, b"{}").encode()
    assert HEADER.size == 24
    assert raw[:24] == b"SGW1" + bytes([3, 0, 0, 0]) + struct.pack(">QII", 1, 2, 0)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "shorter than the header"),
        (b"SGW1" + bytes(19), "shorter than the header"),
        (b"XXXX" + bytes(20), "bad magic"),
        (b"SGW1" + bytes([9]) + bytes(19), "unknown message kind"),
        (b"SGW1" + bytes([1, 2]) + bytes(18), "reserved bits"),
        (b"SGW1" + bytes([1, 0, 0, 1]) + bytes(16), "reserved bits"),
    ],
)
def test_malformed_payloads_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(WireError, match=reason):
        Envelope.decode(payload)


def test_a_header_body_that_is_not_a_json_object_is_refused() -> None:
    for body in (b"\xff", b"[1]", b"{"):
        with pytest.raises(WireError):
            Envelope(Kind.FILE, 1, 1, 0, False, body).json()


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE])
def test_a_stream_carries_the_file_in_numbered_chunks_ending_with_last(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    envs = list(stream(Kind.FILE, Kind.FILE_CHUNK, 9, 1, file_header(size), io.BytesIO(data)))
    head, chunks = envs[0], envs[1:]
    assert FileHeader.from_json(head.json()) == file_header(size)
    assert [e.seq for e in chunks] == list(range(1, chunk_count(size) + 1))
    assert [e.last for e in envs] == [False] * (len(envs) - 1) + [True]
    assert b"".join(e.body for e in chunks) == data
    assert all(len(e.encode()) <= 143_119 for e in envs)


def test_a_source_shorter_than_announced_stops_the_stream() -> None:
    with pytest.raises(WireError, match="ended before chunk 2"):
        list(stream(Kind.FILE, Kind.FILE_CHUNK, 1, 1, file_header(CHUNK_SIZE + 1), io.BytesIO(b"x" * CHUNK_SIZE)))


@pytest.mark.parametrize(
    "change",
    [{"chunks": 5}, {"size": -1}, {"chunk_size": 0}, {"chunk_size": CHUNK_SIZE + 1}, {"size": "1"}],
)
def test_file_headers_whose_counts_disagree_are_refused(change: dict[str, object]) -> None:
    fields = json.loads(json.dumps(file_header(10).__dict__)) | change
    with pytest.raises(WireError):
        FileHeader.from_json(fields)


def test_a_file_header_missing_a_field_is_refused() -> None:
    fields = dict(file_header(10).__dict__)
    del fields["sha256"]
    with pytest.raises(WireError, match="lacks a field"):
        FileHeader.from_json(fields)


def test_a_result_header_round_trips_through_json() -> None:
    text = "línea\n".encode() * 3
    header = ResultHeader(True, "antiword", 10, "a" * 64, 3, len(text), hashlib.sha256(text).hexdigest(),
                          None, 12, "#p1#localhost", 1)
    head = next(stream(Kind.RESULT, Kind.TEXT_CHUNK, 4, 2, header, io.BytesIO(text)))
    assert ResultHeader.from_json(head.json()) == header
