"""The responder against the real embedded daemon and SQLite."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import spread
from responder.service import run
from spread.daemon import Daemon
from spreadgate import db
from spreadgate.models import UploadedFile
from spreadgate.wire import RESULT_GROUP, Envelope, Kind
from tests.gateway.running import wait_until
from tests.pipeline_parts import component, conf, send_result

SHA = hashlib.sha256(b"document").hexdigest()


def setup_db(tmp_path: Path) -> tuple[str, Callable[[int], UploadedFile]]:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = db.make_engine(url)
    db.migrate(engine)
    sessions = db.sessions(engine)
    with sessions.begin() as session:
        session.add(UploadedFile(path="/d.doc", name="d.doc", size=8, sha256=SHA, state="sent"))
        session.add(UploadedFile(path="/e.doc", name="e.doc", size=8, sha256=SHA, state="sent"))

    def get(upload_id: int) -> UploadedFile:
        with sessions() as session:
            found = session.get(UploadedFile, upload_id)
            assert found is not None
            return found

    return url, get


def wait_for_responder(mbox: spread.Mailbox) -> None:
    """The responder has joined once a membership of uploadresponses shows two members."""
    mbox.join(RESULT_GROUP)
    while True:
        msg = mbox.receive(timeout=30)
        if isinstance(msg, spread.MembershipMsgType) and len(msg.members) == 2:
            return


def test_a_result_stream_spanning_chunks_is_recorded_once(tmp_path: Path) -> None:
    url, get = setup_db(tmp_path)
    text = "".join(f"line {n}\n" for n in range(30_000))  # about 300 KB: three chunks
    with Daemon(port=0) as daemon, component(run, conf(daemon.address, database_url=url)):
        sender = spread.connect(daemon.address, "proc", 0, 1)
        wait_for_responder(sender)
        send_result(sender, 1, SHA, text)
        wait_until(lambda: get(1).state == "processed", "the result to be recorded")
        first = get(1)
        send_result(sender, 1, SHA, "a different text\n", attempt=2)
        send_result(sender, 2, SHA, "marker\n")
        wait_until(lambda: get(2).state == "processed", "the marker result")
        sender.disconnect()
    assert (first.text, first.lines) == (text, 30_000)
    assert get(1).text == text and get(1).processed_at == first.processed_at


def test_a_corrupt_stream_leaves_the_row_alone_and_the_responder_keeps_working(tmp_path: Path) -> None:
    url, get = setup_db(tmp_path)
    with Daemon(port=0) as daemon, component(run, conf(daemon.address, database_url=url)):
        sender = spread.connect(daemon.address, "proc", 0, 1)
        wait_for_responder(sender)
        bad_head = Envelope(Kind.RESULT, 1, 1, 0, False, b'{"ok": true}')
        sender.multicast(spread.AGREED_MESS, RESULT_GROUP, bad_head.encode(), 3)
        sender.multicast(spread.AGREED_MESS, RESULT_GROUP, b"\x00" * 40, 3)
        sender.multicast(spread.AGREED_MESS, RESULT_GROUP,
                         Envelope(Kind.TEXT_CHUNK, 1, 1, 1, True, b"orphan").encode(), 4)
        send_result(sender, 2, SHA, "fine\n")
        wait_until(lambda: get(2).state == "processed", "the good result")
        sender.disconnect()
    assert get(1).state == "sent"


def test_the_responder_reconnects_after_the_daemon_restarts(tmp_path: Path) -> None:
    url, get = setup_db(tmp_path)
    first = Daemon(port=0).start()
    port = first.port
    with component(run, conf(first.address, database_url=url)):
        first.stop()
        with Daemon(port=port) as second:
            sender = spread.connect(second.address, "proc", 0, 1)
            wait_for_responder(sender)
            send_result(sender, 1, SHA, None, error="catdoc: Bad BBD entry!")
            wait_until(lambda: get(1).state == "failed", "the failure to be recorded")
            sender.disconnect()
    assert get(1).error == "catdoc: Bad BBD entry!"
