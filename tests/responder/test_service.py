"""The responder as it runs: the real embedded Spread daemon, real databases, result streams sent as processors do."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import spread
from responder.service import run
from spread.daemon import Daemon
from spreadgate.models import UploadedFile
from spreadgate.wire import (
    RESULT_GROUP,
    Envelope,
    Kind,
    ResultHeader,
    chunk_count,
    stream,
)
from tests.gateway.running import wait_until
from tests.pipeline_parts import component, conf, send_result
from tests.responder.support import (
    SHA,
    PostgresDatabase,
    fetch,
    migrated,
    new_upload,
)

Sessions = sessionmaker[Session]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db.sqlite'}"


@pytest.fixture
def sender() -> Iterator[tuple[Daemon, spread.Mailbox]]:
    """A running daemon and a session on it that plays the processor."""
    with Daemon(port=0) as daemon:
        mbox = spread.connect(daemon.address, "proc", 0, 1)
        try:
            yield daemon, mbox
        finally:
            mbox.disconnect()


def wait_for_responder(mbox: spread.Mailbox) -> None:
    """The responder has joined once a membership of uploadresponses shows two members."""
    mbox.join(RESULT_GROUP)
    while True:
        msg = mbox.receive(timeout=30)
        if isinstance(msg, spread.MembershipMsgType) and msg.group == RESULT_GROUP and len(msg.members) == 2:
            return


def send_stream(mbox: spread.Mailbox, upload_id: int, data: bytes, *, text_sha256: str | None = None,
                skip: int | None = None) -> None:
    """A result stream for ``data``, optionally announcing another sha256 or leaving out chunk ``skip``."""
    header = ResultHeader(True, "antiword", 8, SHA, data.count(b"\n"), len(data),
                          text_sha256 or hashlib.sha256(data).hexdigest(), None, 5, "#p1#localhost",
                          chunk_count(len(data)))
    for env in stream(Kind.RESULT, Kind.TEXT_CHUNK, upload_id, 1, header, io.BytesIO(data)):
        if env.seq != skip:
            mbox.multicast(spread.AGREED_MESS, RESULT_GROUP, env.encode(), int(env.kind))


def test_a_result_stream_spanning_chunks_is_recorded_on_every_engine(
        db_url: str, sender: tuple[Daemon, spread.Mailbox]) -> None:
    daemon, mbox = sender
    text = "".join(f"строка {n}: 第{n}行\n" for n in range(20_000))  # about 500 KB: several chunks
    with migrated(db_url) as sessions, component(run, conf(daemon.address, database_url=db_url)):
        upload_id = new_upload(sessions)
        wait_for_responder(mbox)
        send_result(mbox, upload_id, SHA, text)
        wait_until(lambda: fetch(sessions, upload_id).state == "processed", "the result to be recorded")
        stored = fetch(sessions, upload_id)
    assert (stored.text, stored.lines, stored.converter, stored.error) == (text, 20_000, "antiword", None)


def test_the_same_stream_twice_or_a_later_attempt_changes_nothing(
        sqlite_url: str, sender: tuple[Daemon, spread.Mailbox]) -> None:
    daemon, mbox = sender
    with migrated(sqlite_url) as sessions, component(run, conf(daemon.address, database_url=sqlite_url)):
        upload_id, marker = new_upload(sessions), new_upload(sessions)
        wait_for_responder(mbox)
        send_result(mbox, upload_id, SHA, "first\n")
        wait_until(lambda: fetch(sessions, upload_id).state == "processed", "the result to be recorded")
        first = fetch(sessions, upload_id)
        send_result(mbox, upload_id, SHA, "first\n")
        send_result(mbox, upload_id, SHA, "a different text\n", attempt=2)
        send_result(mbox, upload_id, SHA, None, error="late failure", attempt=3)
        send_result(mbox, marker, SHA, "marker\n")
        wait_until(lambda: fetch(sessions, marker).state == "processed", "the marker result")
        again = fetch(sessions, upload_id)
    assert (again.state, again.text, again.error, again.processed_at, again.updated_at) == \
        ("processed", "first\n", None, first.processed_at, first.updated_at)


def test_corrupt_streams_leave_the_row_alone_and_the_responder_keeps_working(
        sqlite_url: str, sender: tuple[Daemon, spread.Mailbox]) -> None:
    daemon, mbox = sender
    big = b"chunk of text\n" * 20_000  # three chunks
    with migrated(sqlite_url) as sessions, component(run, conf(daemon.address, database_url=sqlite_url)):
        victim, good = new_upload(sessions), new_upload(sessions)
        wait_for_responder(mbox)
        for payload, kind in ((Envelope(Kind.RESULT, victim, 1, 0, False, b'{"ok": true}').encode(), 3),
                              (b"\x00" * 40, 3), (b"SGW1 not a header", 4),
                              (Envelope(Kind.TEXT_CHUNK, victim, 1, 1, True, b"orphan").encode(), 4),
                              (Envelope(Kind.FILE, victim, 1, 0, True, b"{}").encode(), 1)):
            mbox.multicast(spread.AGREED_MESS, RESULT_GROUP, payload, kind)
        send_stream(mbox, victim, big, text_sha256="0" * 64)
        send_stream(mbox, victim, big, skip=2)
        send_stream(mbox, victim, big, skip=3)
        send_stream(mbox, good, big)
        wait_until(lambda: fetch(sessions, good).state == "processed", "the good result")
        assert fetch(sessions, good).text == big.decode()
        stored = fetch(sessions, victim)
    assert (stored.state, stored.text, stored.processed_at) == ("sent", None, None)


def test_results_sent_while_the_database_is_down_are_all_written_when_it_returns(
        caplog: pytest.LogCaptureFixture) -> None:
    # 40 MB of results against a daemon that cuts off a member with more than 1 MiB
    # queued for over a second: they all arrive only if receiving goes on meanwhile.
    texts = {n: "".join(f"upload {n} line {i}\n" for i in range(100_000)) for n in range(20)}
    with PostgresDatabase.created() as database, migrated(database.url) as sessions, \
            Daemon(port=0, max_session_bytes=1 << 20, slow_reader_grace=1.0) as daemon, \
            component(run, conf(daemon.address, database_url=database.url)):
        ids = {n: new_upload(sessions) for n in texts}
        mbox = spread.connect(daemon.address, "proc", 0, 1)
        try:
            wait_for_responder(mbox)
            mbox.leave(RESULT_GROUP)  # so the sender is not sent its own 40 MB back
            database.close()
            for n, text in texts.items():
                send_result(mbox, ids[n], SHA, text)
            wait_until(lambda: "database unavailable" in caplog.text, "the responder to meet the outage")
        finally:
            mbox.disconnect()
        database.reopen()
        wait_until(lambda: all(fetch(sessions, i).state == "processed" for i in ids.values()),
                   "the results after the outage", deadline_s=120)
        with sessions() as session:
            stored = {row.id: row.text for row in session.execute(select(UploadedFile.id, UploadedFile.text))}
    assert {n: stored[ids[n]] for n in texts} == texts


def test_the_responder_reconnects_after_the_daemon_restarts(sqlite_url: str) -> None:
    first = Daemon(port=0).start()
    port = first.port
    with migrated(sqlite_url) as sessions, component(run, conf(first.address, database_url=sqlite_url)):
        upload_id = new_upload(sessions)
        first.stop()
        with Daemon(port=port) as second:
            mbox = spread.connect(second.address, "proc", 0, 1)
            try:
                wait_for_responder(mbox)
                send_result(mbox, upload_id, SHA, None, error="catdoc: Bad BBD entry!")
                wait_until(lambda: fetch(sessions, upload_id).state == "failed", "the failure to be recorded")
            finally:
                mbox.disconnect()
        assert fetch(sessions, upload_id).error == "catdoc: Bad BBD entry!"
