"""Forged, repeated, reordered, overlong and incomplete upload streams sent to a running processor over the
embedded daemon: each is refused (dropped, or a ``failed`` result when only the sha256 tells), its spooled
bytes are removed, and a good upload sent right after is converted."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import spread
from processor.service import run
from spread.daemon import Daemon
from spreadgate.wire import RESULT_GROUP, UPLOAD_GROUP, Envelope
from tests.pipeline_parts import (
    component,
    conf,
    file_stream,
    receive_result,
    send_file,
    wait_for_members,
)
from tests.spread.helpers import wait_for

Mangle = Callable[[list[Envelope]], list[Envelope]]
_ids = itertools.count(100)


@dataclasses.dataclass
class Processor:
    """A running processor, a gateway-like sender and a result listener on one daemon."""

    daemon: Daemon
    sender: spread.Mailbox
    listener: spread.Mailbox
    work: Path

    def send(self, envelopes: list[Envelope], mbox: spread.Mailbox | None = None) -> None:
        for env in envelopes:
            (mbox or self.sender).multicast(spread.AGREED_MESS, UPLOAD_GROUP, env.encode(), int(env.kind))


@pytest.fixture(scope="module")
def processor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processor]:
    work = tmp_path_factory.mktemp("work")
    with Daemon(port=0) as daemon:
        sender = spread.connect(daemon.address, "gw", 0, 1)
        listener = spread.connect(daemon.address, "resp", 0, 0)
        try:
            listener.join(RESULT_GROUP)
            with component(run, conf(daemon.address, processor_work_dir=str(work))):
                wait_for_members(sender, UPLOAD_GROUP, 2)
                yield Processor(daemon, sender, listener, work)
        finally:
            sender.disconnect()
            listener.disconnect()
    assert spooled(work) == []  # a stream still open when the processor stopped is removed too


def spooled(work: Path, upload_id: int | None = None) -> list[Path]:
    """The files in the processor's work folder (it keeps a private folder there while it runs), or
    only those spooled for ``upload_id`` (``sg-<id>-…``, see spreadgate.assembly)."""
    prefix = "" if upload_id is None else f"sg-{upload_id}-"
    return [p for p in work.rglob(f"{prefix}*") if p.is_file()]


def envelopes(data: bytes, upload_id: int) -> list[Envelope]:
    return list(file_stream(upload_id, data))


def replace(env: Envelope, **changes: object) -> Envelope:
    return dataclasses.replace(env, **changes)  # type: ignore[arg-type]


# The stream of a five-chunk document: [header, chunk 1, …, chunk 5]. A stream that merely stops could
# still be finished, so its bytes stay spooled until the processor stops (checked by the fixture).
DROPPED: list[tuple[str, Mangle, bool]] = [
    ("a repeated chunk", lambda e: e[:3] + [e[2]] + e[3:], False),
    ("two chunks swapped", lambda e: e[:2] + [e[3], e[2]] + e[4:], False),
    ("a missing chunk", lambda e: e[:3] + e[4:], False),
    ("a last flag on the second chunk", lambda e: e[:2] + [replace(e[2], last=True)] + e[3:], False),
    ("a last chunk longer than announced", lambda e: e[:-1] + [replace(e[-1], body=e[-1].body + b"x")], False),
    ("a chunk numbered beyond the announced count",
     lambda e: e[:-1] + [replace(e[-1], last=False), replace(e[-1], seq=6)], False),
    ("a stream that stops before its last chunk", lambda e: e[:-1], True),
]


@pytest.mark.parametrize("mangle,still_open", [d[1:] for d in DROPPED], ids=[d[0] for d in DROPPED])
def test_a_broken_stream_is_dropped_and_the_next_upload_is_converted(
    processor: Processor, corpus: Path, mangle: Mangle, still_open: bool
) -> None:
    bad, good = next(_ids), next(_ids)
    processor.send(mangle(envelopes((corpus / "Bug50955.doc").read_bytes(), bad)))
    send_file(processor.sender, good, (corpus / "testWORD.doc").read_bytes(), name="testWORD.doc")
    head, header, _ = receive_result(processor.listener)  # the broken stream gets no result
    assert (head.upload_id, header.ok, header.lines) == (good, True, 60)
    assert bool(spooled(processor.work, bad)) == still_open


def test_a_chunk_whose_bytes_were_altered_fails_on_its_sha256(processor: Processor, corpus: Path) -> None:
    bad, good = next(_ids), next(_ids)
    stream_ = envelopes((corpus / "Bug50955.doc").read_bytes(), bad)
    forged = bytes(b ^ 0xFF for b in stream_[3].body)  # same length: only the digest can tell
    processor.send(stream_[:3] + [replace(stream_[3], body=forged)] + stream_[4:])
    head, header, text = receive_result(processor.listener)
    assert (head.upload_id, header.ok, header.converter, text) == (bad, False, None, b"")
    assert (header.error or "").startswith("sha256 mismatch"), header.error
    send_file(processor.sender, good, (corpus / "testWORD.doc").read_bytes(), name="testWORD.doc")
    head, header, _ = receive_result(processor.listener)
    assert (head.upload_id, header.ok, header.lines) == (good, True, 60)


def test_chunks_forged_by_another_session_into_a_stream_are_ignored(processor: Processor, corpus: Path) -> None:
    upload = next(_ids)
    real = envelopes((corpus / "testWORD.doc").read_bytes(), upload)
    intruder = spread.connect(processor.daemon.address, "intruder", 0, 0)
    try:
        processor.send(real[:1])
        # the same upload, attempt and chunk number, from another sender: a stream of its own, never begun
        processor.send([replace(real[1], body=b"forged" * 1000)], intruder)
        # the sender is a member of the group: once it sees the forgery, the processor has seen it too
        wait_for(processor.sender, lambda m: isinstance(m, spread.RegularMsgType) and m.sender == intruder.private_group)
        processor.send(real[1:])
    finally:
        intruder.disconnect()
    head, header, text = receive_result(processor.listener)
    assert (head.upload_id, header.ok, header.lines) == (upload, True, 60)
    assert b"Sample Word Document" in text and b"forged" not in text
