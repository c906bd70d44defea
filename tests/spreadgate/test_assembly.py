"""Rebuilding a stream: only the exact announced bytes, in order, are accepted."""

import hashlib
import io
from pathlib import Path

import pytest

from spreadgate.assembly import AssemblyError, StreamAssembler
from spreadgate.wire import CHUNK_SIZE, Envelope, FileHeader, Kind, chunk_count, stream

DATA = b"spreadgate " * 30_000  # three chunks


def envelopes(data: bytes = DATA, upload_id: int = 1, attempt: int = 1) -> list[Envelope]:
    header = FileHeader("/x.doc", "x.doc", "application/msword", len(data),
                        hashlib.sha256(data).hexdigest(), chunk_count(len(data)))
    return list(stream(Kind.FILE, Kind.FILE_CHUNK, upload_id, attempt, header, io.BytesIO(data)))


def assembler(tmp_path: Path, data: bytes = DATA, sha: str | None = None) -> StreamAssembler:
    return StreamAssembler(upload_id=1, attempt=1, size=len(data), chunks=chunk_count(len(data)),
                           sha256=sha or hashlib.sha256(data).hexdigest(), directory=tmp_path)


def test_chunks_in_order_rebuild_the_identical_file(tmp_path: Path) -> None:
    asm = assembler(tmp_path)
    done = [asm.add(e) for e in envelopes()[1:]]
    assert done == [False, False, True]
    assert asm.finish().read_bytes() == DATA


@pytest.mark.parametrize(
    ("order", "reason"),
    [([2, 1, 3], "expected chunk 1, got 2"), ([1, 1], "expected chunk 2, got 1"),
     ([1, 3], "expected chunk 2, got 3")],
)
def test_gaps_repeats_and_reordering_are_refused(tmp_path: Path, order: list[int], reason: str) -> None:
    asm, envs = assembler(tmp_path), envelopes()
    with pytest.raises(AssemblyError, match=reason):
        for seq in order:
            asm.add(envs[seq])


def test_a_chunk_of_another_stream_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AssemblyError, match="another stream"):
        assembler(tmp_path).add(envelopes(attempt=2)[1])


def test_a_wrong_sha256_fails_at_the_end(tmp_path: Path) -> None:
    asm = assembler(tmp_path, sha="f" * 64)
    for env in envelopes()[1:]:
        asm.add(env)
    with pytest.raises(AssemblyError, match="sha256"):
        asm.finish()


def test_an_incomplete_stream_fails_and_discard_leaves_no_file(tmp_path: Path) -> None:
    asm = assembler(tmp_path)
    asm.add(envelopes()[1])
    with pytest.raises(AssemblyError, match=f"got {CHUNK_SIZE} of {len(DATA)} bytes"):
        asm.finish()
    asm.discard()
    assert list(tmp_path.iterdir()) == []


def test_more_bytes_than_announced_are_refused(tmp_path: Path) -> None:
    asm = StreamAssembler(upload_id=1, attempt=1, size=10, chunks=1, sha256=None, directory=tmp_path)
    with pytest.raises(AssemblyError, match="more bytes"):
        asm.add(Envelope(Kind.FILE_CHUNK, 1, 1, 1, True, b"x" * 11))


def test_a_misplaced_last_flag_is_refused(tmp_path: Path) -> None:
    asm, first = assembler(tmp_path), envelopes()[1]
    with pytest.raises(AssemblyError, match="last-chunk flag"):
        asm.add(Envelope(first.kind, 1, 1, 1, True, first.body))
