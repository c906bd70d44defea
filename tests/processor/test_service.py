"""The processor against the real embedded daemon: it converts what it owns and answers."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import spread
from processor.service import run
from spread.daemon import Daemon
from spreadgate.wire import RESULT_GROUP, UPLOAD_GROUP, Envelope, Kind
from tests.pipeline_parts import (
    ResultReader,
    component,
    conf,
    receive_result,
    send_file,
    wait_for_members,
)


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    with Daemon(port=0) as running:
        yield running


@pytest.fixture
def mailboxes(daemon: Daemon) -> Iterator[tuple[spread.Mailbox, spread.Mailbox]]:
    sender = spread.connect(daemon.address, "gw", 0, 1)
    listener = spread.connect(daemon.address, "resp", 0, 0)
    listener.join(RESULT_GROUP)
    yield sender, listener
    sender.disconnect()
    listener.disconnect()


def test_a_document_sent_as_a_stream_comes_back_as_its_text(
    daemon: Daemon, mailboxes: tuple[spread.Mailbox, spread.Mailbox], corpus: Path
) -> None:
    sender, listener = mailboxes
    data = (corpus / "testWORD.doc").read_bytes()
    with component(run, conf(daemon.address)):
        wait_for_members(sender, UPLOAD_GROUP, 2)
        send_file(sender, 7, data)
        head, header, text = receive_result(listener)
    assert (head.upload_id, head.attempt, header.ok, header.converter, header.lines) == (7, 1, True, "antiword", 60)
    assert header.sha256 == hashlib.sha256(data).hexdigest()
    assert b"Sample Word Document" in text and len(text) == header.text_bytes


def test_two_processors_share_the_uploads_and_each_is_converted_once(
    daemon: Daemon, mailboxes: tuple[spread.Mailbox, spread.Mailbox], corpus: Path
) -> None:
    sender, listener = mailboxes
    data = (corpus / "raw_text.doc").read_bytes()
    with component(run, conf(daemon.address)), component(run, conf(daemon.address)):
        wait_for_members(sender, UPLOAD_GROUP, 3)
        for upload_id in range(1, 21):
            send_file(sender, upload_id, data)
        reader = ResultReader(listener)
        results = [reader.next() for _ in range(20)]
    ids = Counter(head.upload_id for head, _, _ in results)
    assert ids == Counter(range(1, 21))
    by_processor = Counter(header.processor for _, header, _ in results)
    assert len(by_processor) == 2 and all(n == 10 for n in by_processor.values())
    assert all(header.lines == 51 for _, header, _ in results)


def test_a_forged_chunk_stream_gets_no_result_and_the_processor_keeps_working(
    daemon: Daemon, mailboxes: tuple[spread.Mailbox, spread.Mailbox], corpus: Path
) -> None:
    sender, listener = mailboxes
    with component(run, conf(daemon.address)):
        wait_for_members(sender, UPLOAD_GROUP, 2)
        sender.multicast(spread.AGREED_MESS, UPLOAD_GROUP, b"not a spreadgate message", 1)
        forged = Envelope(Kind.FILE_CHUNK, 3, 1, 5, True, b"stray chunk").encode()
        sender.multicast(spread.AGREED_MESS, UPLOAD_GROUP, forged, 2)
        send_file(sender, 4, (corpus / "testWORD.doc").read_bytes())
        head, header, _ = receive_result(listener)
    assert (head.upload_id, header.ok) == (4, True)


def test_bytes_that_do_not_match_their_sha256_give_a_failed_result(
    daemon: Daemon, mailboxes: tuple[spread.Mailbox, spread.Mailbox]
) -> None:
    sender, listener = mailboxes
    with component(run, conf(daemon.address)):
        wait_for_members(sender, UPLOAD_GROUP, 2)
        header = Envelope(Kind.FILE, 9, 1, 0, False,
                          b'{"path":"/x","name":"x","content_type":"t","size":3,"sha256":"' + b"0" * 64
                          + b'","chunks":1,"chunk_size":131072}')
        sender.multicast(spread.AGREED_MESS, UPLOAD_GROUP, header.encode(), 1)
        sender.multicast(spread.AGREED_MESS, UPLOAD_GROUP, Envelope(Kind.FILE_CHUNK, 9, 1, 1, True, b"abc").encode(), 2)
        head, result, _ = receive_result(listener)
    assert (head.upload_id, result.ok) == (9, False)
    assert "sha256" in (result.error or "")


def test_the_processor_comes_back_after_the_daemon_restarts(corpus: Path) -> None:
    first = Daemon(port=0).start()
    port = first.port
    with component(run, conf(first.address)):
        first.stop()
        with Daemon(port=port) as second:
            sender = spread.connect(second.address, "gw", 0, 1)
            listener = spread.connect(second.address, "resp", 0, 0)
            listener.join(RESULT_GROUP)
            wait_for_members(sender, UPLOAD_GROUP, 2)
            send_file(sender, 1, (corpus / "testWORD.doc").read_bytes())
            head, header, _ = receive_result(listener)
            sender.disconnect()
            listener.disconnect()
    assert (head.upload_id, header.lines) == (1, 60)
