"""Fuzzing the message contract: arbitrary bytes and JSON only ever raise ``WireError``, and streams leak nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spreadgate.collector import StreamCollector
from spreadgate.wire import Envelope, FileHeader, Kind, ResultHeader, WireError
from tests.hostile.fuzzing import fuzz

HEADER_BYTES = 24
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
FILE_KEYS = ["path", "name", "content_type", "size", "sha256", "chunks", "chunk_size"]
RESULT_KEYS = ["ok", "converter", "size", "sha256", "lines", "text_bytes", "text_sha256", "error",
               "duration_ms", "processor", "chunks", "chunk_size", "extra"]


def header_like(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with mostly the right keys and arbitrary values: the shape that gets furthest."""
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=8), json_values, max_size=len(keys) + 2)


def envelope(kinds: list[Kind], bodies: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return st.builds(lambda k, u, a, s, last, b: Envelope(k, u, a, s, last, b).encode(),
                     st.sampled_from(kinds), st.integers(0, 3), st.integers(0, 2), st.integers(0, 4),
                     st.booleans(), bodies)


def small_file_header(size: int, chunk_size: int, sha: str) -> bytes:
    header = {"path": "/x.doc", "name": "x.doc", "content_type": "application/msword", "size": size,
              "sha256": sha, "chunks": -(-size // chunk_size), "chunk_size": chunk_size}
    return json.dumps(header).encode()


header_bodies = (st.builds(small_file_header, st.integers(0, 12), st.integers(1, 5),
                           st.sampled_from(["0" * 64, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]))
                 | st.binary(max_size=64) | header_like(FILE_KEYS).map(lambda d: json.dumps(d).encode()))
messages = st.lists(st.binary(max_size=40)
                    | envelope([Kind.FILE], header_bodies)
                    | envelope([Kind.FILE_CHUNK, Kind.RESULT, Kind.TEXT_CHUNK], st.binary(max_size=6)),
                    max_size=25)
arbitrary_payloads = (st.binary(max_size=200)
                      | st.binary(max_size=60).map(lambda b: b"SGW1" + b)
                      | st.tuples(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=40))
                      .map(lambda t: b"SGW1" + bytes([t[0], t[1], 0, 0]) + bytes(16) + t[2]))


@fuzz
@given(arbitrary_payloads)
def test_decoding_arbitrary_bytes_gives_an_envelope_or_a_wire_error(payload: bytes) -> None:
    try:
        decoded = Envelope.decode(payload)
    except WireError:
        return
    assert decoded.encode() == payload
    try:
        decoded.json()
    except WireError:
        pass


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"size": ' + b"1" * 5000 + b"}", b"\xff\xfe{}"],
                         ids=["nesting past the recursion limit", "an integer past the digit limit",
                              "bytes that are not UTF-8"])
def test_a_header_body_python_cannot_load_is_a_wire_error(body: bytes) -> None:
    with pytest.raises(WireError):
        Envelope(Kind.FILE, 1, 1, 0, True, body).json()


@fuzz
@given(header_like(FILE_KEYS) | st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_a_file_header_from_arbitrary_json_is_valid_or_a_wire_error(data: dict[str, Any]) -> None:
    try:
        header = FileHeader.from_json(data)
    except WireError:
        return
    assert header.chunks == -(-header.size // header.chunk_size)


@fuzz
@given(header_like(RESULT_KEYS) | st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_a_result_header_from_arbitrary_json_is_valid_or_a_wire_error(data: dict[str, Any]) -> None:
    try:
        header = ResultHeader.from_json(data)
    except WireError:
        return
    assert header.chunks == -(-header.text_bytes // header.chunk_size)


@fuzz
@given(messages)
def test_a_collector_fed_anything_never_raises_and_leaves_no_file_after_close(
        tmp_path_factory: pytest.TempPathFactory, sequence: list[bytes]) -> None:
    directory = tmp_path_factory.mktemp("collector")
    collector = StreamCollector(FileHeader, Kind.FILE_CHUNK, directory)
    for payload in sequence:
        done = collector.feed("#p#h", payload)
        if done is not None and done.path is not None:
            assert done.path.is_relative_to(directory)
            done.path.unlink()  # a finished file belongs to the caller from here on
    collector.close()
    assert list(Path(directory).rglob("*")) == []
