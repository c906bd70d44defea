"""The processor against the real embedded daemon: it converts what it owns and answers."""

from __future__ import annotations

import hashlib
import io
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import spread
from processor.service import run
from spread.daemon import Daemon
from spreadgate.wire import (
    RESULT_GROUP,
    UPLOAD_GROUP,
    Envelope,
    FileHeader,
    Kind,
    chunk_count,
    stream,
)
from tests.pipeline_parts import (
    ResultReader,
    component,
    conf,
    receive_result,
    send_file,
    wait_for_members,
)

Mailboxes = tuple[spread.Mailbox, spread.Mailbox]


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    with Daemon(port=0) as running:
        yield running


@pytest.fixture
def mailboxes(daemon: Daemon) -> Iterator[Mailboxes]:
    """A gateway-like sender (with membership, to see processors join) and a result listener."""
    sender = spread.connect(daemon.address, "gw", 0, 1)
    listener = spread.connect(daemon.address, "resp", 0, 0)
    listener.join(RESULT_GROUP)
    yield sender, listener
    sender.disconnect()
    listener.disconnect()


def test_a_document_sent_as_a_stream_comes_back_as_its_text(
    daemon: Daemon, mailboxes: Mailboxes, corpus: Path
) -> None:
    sender, listener = mailboxes
    data = (corpus / "testWORD.doc").read_bytes()
    with component(run, conf(daemon.address)):
        wait_for_members(sender, UPLOAD_GROUP, 2)
        send_file(sender, 7, data)
        head, header, text = receive_result(listener)
    assert (head.upload_id, head.attempt, header.ok, header.converter, header.lines) == (7, 1, True, "antiword", 60)
    assert header.sha256 == hashlib.sha256(data).hexdigest() and header.size == len(data)
    assert header.text_sha256 == hashlib.sha256(text).hexdigest() and len(text) == header.text_bytes
    assert b"Sample Word Document" in text


CASES = {  # upload id: (corpus file, ok, converter, lines or the start of the error)
    1: ("Bug50955.doc", True, "antiword", 8582),  # its text needs several chunks
    2: ("testWORD6.doc", True, "catdoc", 2),
    3: ("testWORD.docx", True, "docx", 32),
    4: ("encrypted.docx", False, None, "encrypted document"),
    5: ("bad/segfault-2byte-flip.doc", True, "catdoc", 49),
    6: ("bad/empty.doc", False, None, "empty file"),
    7: ("testLargeOLEDoc.doc", True, "antiword", 10),  # its bytes need 16 chunks
}


def test_each_kind_of_document_gets_its_converter_or_its_reason(
    daemon: Daemon, mailboxes: Mailboxes, corpus: Path
) -> None:
    sender, listener = mailboxes
    with component(run, conf(daemon.address)):
        wait_for_members(sender, UPLOAD_GROUP, 2)
        for upload_id, (rel, *_) in CASES.items():
            send_file(sender, upload_id, (corpus / rel).read_bytes(), name=Path(rel).name)
        reader = ResultReader(listener)
        results = {head.upload_id: (header, text) for head, header, text in (reader.next() for _ in CASES)}
    for upload_id, (_, ok, converter, outcome) in CASES.items():
        header, text = results[upload_id]
        assert (header.ok, header.converter) == (ok, converter), header.error
        if ok:
            assert header.lines == outcome == text.count(b"\n") and header.error is None
        else:
            assert str(header.error).startswith(str(outcome)) and text == b""


def test_two_processors_share_the_uploads_and_each_is_converted_once(
    daemon: Daemon, mailboxes: Mailboxes, corpus: Path
) -> None:
    sender, listener = mailboxes
    data = (corpus / "raw_text.doc").read_bytes()
    with component(run, conf(daemon.address)), component(run, conf(daemon.address)):
        wait_for_members(sender, UPLOAD_GROUP, 3)
        for upload_id in range(1, 21):
            send_file(sender, upload_id, data)
        reader = ResultReader(listener)
        results = [reader.next() for _ in range(20)]
        assert_no_more_results(listener)  # no upload was converted twice
    assert Counter(head.upload_id for head, _, _ in results) == Counter(range(1, 21))
    by_processor = Counter(header.processor for _, header, _ in results)
    assert len(by_processor) == 2 and all(n == 10 for n in by_processor.values())
    assert all(header.lines == 51 for _, header, _ in results)


def test_malformed_messages_and_a_corrupt_chunk_stream_get_no_result_and_work_goes_on(
    daemon: Daemon, mailboxes: Mailboxes, corpus: Path
) -> None:
    sender, listener = mailboxes
    data = (corpus / "testLargeOLEDoc.doc").read_bytes()
    with component(run, conf(daemon.address)):
        wait_for_members(sender, UPLOAD_GROUP, 2)
        sender.multicast(spread.AGREED_MESS, UPLOAD_GROUP, b"not a spreadgate message", 1)
        sender.multicast(spread.AGREED_MESS, UPLOAD_GROUP, Envelope(Kind.FILE, 2, 1, 0, False, b"{").encode(), 1)
        stray = Envelope(Kind.FILE_CHUNK, 3, 1, 5, True, b"stray chunk").encode()
        sender.multicast(spread.AGREED_MESS, UPLOAD_GROUP, stray, 2)
        for env in file_stream(5, 1, data):  # chunk 4 is missing: the stream is dropped
            if env.seq != 4:
                sender.multicast(spread.AGREED_MESS, UPLOAD_GROUP, env.encode(), int(env.kind))
        send_file(sender, 6, (corpus / "testWORD.doc").read_bytes())
        head, header, _ = receive_result(listener)
    assert (head.upload_id, header.ok, header.lines) == (6, True, 60)


def test_a_new_attempt_replaces_an_unfinished_stream_of_the_same_upload(
    daemon: Daemon, mailboxes: Mailboxes, corpus: Path
) -> None:
    sender, listener = mailboxes
    data = (corpus / "testLargeOLEDoc.doc").read_bytes()
    with component(run, conf(daemon.address)):
        wait_for_members(sender, UPLOAD_GROUP, 2)
        for env in list(file_stream(8, 1, data))[:5]:  # attempt 1 breaks off after four chunks
            sender.multicast(spread.AGREED_MESS, UPLOAD_GROUP, env.encode(), int(env.kind))
        send_file(sender, 8, data, attempt=2)
        reader = ResultReader(listener)
        head, header, _ = reader.next()
        assert_no_more_results(listener)
    assert (head.upload_id, head.attempt, header.ok, header.lines) == (8, 2, True, 10)


def test_bytes_that_do_not_match_their_sha256_give_a_failed_result(
    daemon: Daemon, mailboxes: Mailboxes
) -> None:
    sender, listener = mailboxes
    with component(run, conf(daemon.address)):
        wait_for_members(sender, UPLOAD_GROUP, 2)
        for env in file_stream(9, 1, b"abc", sha256="0" * 64):
            sender.multicast(spread.AGREED_MESS, UPLOAD_GROUP, env.encode(), int(env.kind))
        head, result, text = receive_result(listener)
    assert (head.upload_id, result.ok, result.converter, text) == (9, False, None, b"")
    assert (result.error or "").startswith("sha256 mismatch")


def test_the_processor_comes_back_after_the_daemon_restarts(corpus: Path) -> None:
    first = Daemon(port=0).start()
    port = first.port
    with component(run, conf(first.address)):
        first.stop()
        with Daemon(port=port) as second:
            sender = spread.connect(second.address, "gw", 0, 1)
            listener = spread.connect(second.address, "resp", 0, 0)
            try:
                listener.join(RESULT_GROUP)
                wait_for_members(sender, UPLOAD_GROUP, 2)
                send_file(sender, 1, (corpus / "testWORD.doc").read_bytes())
                head, header, _ = receive_result(listener)
            finally:
                sender.disconnect()
                listener.disconnect()
    assert (head.upload_id, header.lines) == (1, 60)


def test_a_stopped_processor_leaves_no_files_behind(
    daemon: Daemon, mailboxes: Mailboxes, corpus: Path, tmp_path: Path
) -> None:
    sender, listener = mailboxes
    with component(run, conf(daemon.address, processor_work_dir=str(tmp_path))):
        wait_for_members(sender, UPLOAD_GROUP, 2)
        send_file(sender, 3, (corpus / "testWORD.docx").read_bytes())
        receive_result(listener)
        for env in list(file_stream(4, 1, (corpus / "Bug50955.doc").read_bytes()))[:3]:
            sender.multicast(spread.AGREED_MESS, UPLOAD_GROUP, env.encode(), int(env.kind))
    assert list(tmp_path.iterdir()) == []


def file_stream(upload_id: int, attempt: int, data: bytes, sha256: str | None = None) -> Iterator[Envelope]:
    header = FileHeader("/d.doc", "d.doc", "application/msword", len(data),
                        sha256 or hashlib.sha256(data).hexdigest(), chunk_count(len(data)))
    return stream(Kind.FILE, Kind.FILE_CHUNK, upload_id, attempt, header, io.BytesIO(data))


def assert_no_more_results(listener: spread.Mailbox, quiet_s: float = 1.0) -> None:
    """Nothing more arrives on ``listener`` for ``quiet_s``."""
    end = time.monotonic() + quiet_s
    while (left := end - time.monotonic()) > 0:
        try:
            message = listener.receive(timeout=left)
        except TimeoutError:
            return
        assert not isinstance(message, spread.RegularMsgType), Envelope.decode(message.message)


def test_a_processor_with_two_workers_converts_every_upload_once(
    daemon: Daemon, mailboxes: tuple[spread.Mailbox, spread.Mailbox], corpus: Path
) -> None:
    sender, listener = mailboxes
    data = (corpus / "testWORD.doc").read_bytes()
    with component(run, conf(daemon.address, processor_workers=2)):
        wait_for_members(sender, UPLOAD_GROUP, 2)
        for upload_id in range(1, 9):
            send_file(sender, upload_id, data)
        reader = ResultReader(listener)
        results = [reader.next() for _ in range(8)]
    assert sorted(head.upload_id for head, _, _ in results) == list(range(1, 9))
    assert all(header.lines == 60 for _, header, _ in results)
