"""The forwarder sends each recorded upload over Spread, again when unanswered, and waits out a missing daemon."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import requests

import spread
from gateway.service import build
from spreadgate import settings
from spreadgate.assembly import StreamAssembler
from spreadgate.models import UploadedFile
from spreadgate.wire import UPLOAD_GROUP, WORKER_GROUP, Envelope, FileHeader, Kind
from tests.gateway.running import embedded_daemon, running_gateway, wait_until


def receive_stream(mbox: spread.Mailbox, directory: Path) -> tuple[Envelope, FileHeader, bytes]:
    """Read one whole file stream from ``uploadfiles``."""
    while True:
        msg = mbox.receive(timeout=30)
        if isinstance(msg, spread.RegularMsgType):
            head = Envelope.decode(msg.message)
            if head.kind == Kind.FILE:
                break
    header = FileHeader.from_json(head.json())
    asm = StreamAssembler(upload_id=head.upload_id, attempt=head.attempt, size=header.size,
                          chunks=header.chunks, sha256=header.sha256, directory=directory)
    done = header.chunks == 0
    while not done:
        msg = mbox.receive(timeout=30)
        assert isinstance(msg, spread.RegularMsgType) and msg.msg_type == Kind.FILE_CHUNK
        done = asm.add(Envelope.decode(msg.message))
    path = asm.finish()
    data = path.read_bytes()
    path.unlink()
    return head, header, data


def test_a_multi_chunk_document_arrives_whole_and_the_row_becomes_sent(tmp_path: Path) -> None:
    data = os.urandom(300_000)
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address) as gw:
        listener = spread.connect(daemon.address, "t1", 0, 0)
        listener.join(UPLOAD_GROUP)
        assert requests.put(f"{gw.url}/big.doc", data=data, timeout=30).status_code == 201
        head, header, received = receive_stream(listener, tmp_path)
        listener.disconnect()
        assert received == data
        assert (header.path, header.size, head.attempt) == ("/big.doc", len(data), 1)
        assert header.sha256 == hashlib.sha256(data).hexdigest()
        wait_until(lambda: gw.rows()[0].state == "sent", "the row to be marked sent")
        assert gw.rows()[0].attempts == 1


def test_uploads_accepted_while_the_daemon_is_down_are_sent_once_it_starts(tmp_path: Path) -> None:
    with embedded_daemon() as probe:
        port = probe.port
    # A short retry period: the forwarder may reconnect and send before the listener has joined.
    with running_gateway(tmp_path / "data", f"{port}@127.0.0.1", gateway_retry_after_s=0.5) as gw:
        assert requests.put(f"{gw.url}/wait.doc", data=b"waiting", timeout=10).status_code == 201
        assert gw.settled()[0].state == "received"
        with embedded_daemon(port) as daemon:
            listener = spread.connect(daemon.address, "t2", 0, 0)
            listener.join(UPLOAD_GROUP)
            _, header, received = receive_stream(listener, tmp_path)
            listener.disconnect()
        assert (header.path, received) == ("/wait.doc", b"waiting")


def test_an_upload_without_an_answer_is_sent_again_with_the_next_attempt(tmp_path: Path) -> None:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address,
                                                      gateway_retry_after_s=0.5) as gw:
        listener = spread.connect(daemon.address, "t3", 0, 0)
        listener.join(UPLOAD_GROUP)
        requests.put(f"{gw.url}/again.doc", data=b"again", timeout=10)
        first, _, _ = receive_stream(listener, tmp_path)
        second, _, data = receive_stream(listener, tmp_path)
        listener.disconnect()
    assert (first.attempt, second.attempt, data) == (1, 2, b"again")
    assert first.upload_id == second.upload_id


def test_a_final_state_is_never_overwritten_by_the_forwarder(tmp_path: Path) -> None:
    conf = settings.load(None, {"gateway_data_dir": str(tmp_path), "spread_daemon": "1@127.0.0.1"})
    _, forwarder = build(conf)
    with forwarder.sessions.begin() as session:
        done = UploadedFile(path="/f.doc", name="f.doc", size=1, sha256="0" * 64, state="processed")
        waiting = UploadedFile(path="/g.doc", name="g.doc", size=1, sha256="1" * 64, state="received")
        session.add_all([done, waiting])
    forwarder._mark_sent([(done.id, 1), (waiting.id, 1)])
    with forwarder.sessions() as session:
        assert session.get(UploadedFile, done.id).state == "processed"
        assert (session.get(UploadedFile, waiting.id).state, session.get(UploadedFile, waiting.id).attempts) == ("sent", 1)


def test_a_row_whose_bytes_are_gone_fails_with_the_reason(tmp_path: Path) -> None:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address) as gw:
        gw.forwarder.stop()
        gw.forwarder.join(10)
        requests.put(f"{gw.url}/gone.doc", data=b"gone", timeout=10)
        gw.settled()
        os.unlink(gw.data_dir / "blobs" / hashlib.sha256(b"gone").hexdigest()[:2]
                  / hashlib.sha256(b"gone").hexdigest())
        mbox = spread.connect(daemon.address, "t4", 0, 0)
        gw.forwarder._forward(mbox, gw.rows()[0])
        mbox.disconnect()
        row = gw.rows()[0]
        assert (row.state, row.error) == ("failed", "stored bytes missing")


def test_when_a_processor_leaves_its_unanswered_uploads_are_sent_again_at_once(tmp_path: Path) -> None:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address,
                                                      gateway_retry_after_s=3600) as gw:
        silent = spread.connect(daemon.address, "p1", 0, 0)
        silent.join(UPLOAD_GROUP)
        silent.join(WORKER_GROUP)
        other = spread.connect(daemon.address, "p2", 0, 0)
        other.join(UPLOAD_GROUP)
        other.join(WORKER_GROUP)
        requests.put(f"{gw.url}/orphan.doc", data=b"orphan", timeout=10)
        assert receive_stream(silent, tmp_path)[0].attempt == 1
        wait_until(lambda: gw.rows()[0].state == "sent", "the upload to be sent")
        silent.disconnect()  # it dies without answering
        again = [receive_stream(other, tmp_path) for _ in range(2)]
        other.disconnect()
    assert [head.attempt for head, _, _ in again] == [1, 2]
    assert again[1][2] == b"orphan"


def test_a_route_also_sends_its_uploads_to_more_groups(tmp_path: Path) -> None:
    routes = {"/legal/": ["archive"]}
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address, routes=routes) as gw:
        converters = spread.connect(daemon.address, "conv", 0, 0)
        converters.join(UPLOAD_GROUP)
        archive = spread.connect(daemon.address, "arch", 0, 0)
        archive.join("archive")
        assert requests.request("MKCOL", f"{gw.url}/legal", timeout=10).status_code == 201
        requests.put(f"{gw.url}/legal/contract.doc", data=b"contract", timeout=10)
        requests.put(f"{gw.url}/memo.doc", data=b"memo", timeout=10)
        converted = {receive_stream(converters, tmp_path)[1].path for _ in range(2)}
        _, archived, data = receive_stream(archive, tmp_path)
        with pytest.raises(TimeoutError):  # the memo, outside the route, never reaches the archive
            archive.receive(timeout=1)
        converters.disconnect()
        archive.disconnect()
    assert converted == {"/legal/contract.doc", "/memo.doc"}
    assert (archived.path, data) == ("/legal/contract.doc", b"contract")
