"""The client (§5, §10, §11, §13 items 11 and 12): classic API surface, errors, robustness, threads."""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import spread
from spread import codec
from spread.daemon import Daemon, DaemonConfig
from spread.handshake import DaemonHandshake

from .helpers import WAIT, data_only, nothing_arrives, wait_for

Connect = Callable[..., spread.Mailbox]


def test_the_classic_spreadmodule_snippet_works(daemon: Daemon) -> None:
    c = spread.connect(
        str(daemon.port), "uploadp", 0, 0
    )  # "<port>" alone, TCP fallback
    try:
        c.join("uploadfiles")
        data = b"document bytes"
        assert c.multicast(spread.RELIABLE_MESS, "uploadfiles", data) == len(data)
        m = c.receive()
        assert isinstance(m, spread.RegularMsgType)
        assert (m.sender, m.groups, m.message, m.msg_type, m.endian) == (
            "#uploadp#localhost",
            ("uploadfiles",),
            data,
            0,
            0,
        )
        assert (
            isinstance(c, spread.MailboxType)
            and c.private_group == "#uploadp#localhost"
        )
    finally:
        c.disconnect()
    assert spread.version() == (4, 4, 0)
    assert spread.error is spread.SpreadError


def test_connect_takes_its_arguments_by_keyword_with_the_classic_names(
    daemon: Daemon,
) -> None:
    box = spread.connect(daemon=daemon.address, name="kw", priority=1, membership=0)
    box.disconnect()


@pytest.fixture
def unix_daemon() -> Iterator[Daemon]:
    """A daemon on a free port that also listens on /tmp/<port>."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = f"/tmp/{port}"
    assert not os.path.exists(path)
    d = Daemon(DaemonConfig(port=port, unix_path=path)).start()
    try:
        yield d
    finally:
        d.stop()
    assert not os.path.exists(path)


def test_a_bare_port_uses_the_unix_socket_when_it_exists(unix_daemon: Daemon) -> None:
    with spread.connect(str(unix_daemon.port), "unixy", 0, 1) as box:
        assert box._sock.family == socket.AF_UNIX
        box.join("u")
        assert isinstance(box.receive(timeout=WAIT), spread.MembershipMessage)


@pytest.mark.parametrize(
    "daemon_string",
    ["abc", "4803@", "x@localhost", "99999@localhost", "4803@no-such-host.invalid"],
)
def test_a_malformed_daemon_string_is_illegal_spread(daemon_string: str) -> None:
    with pytest.raises(spread.IllegalSpread) as info:
        spread.connect(daemon_string)
    assert info.value.args[0] == spread.ILLEGAL_SPREAD


def test_nothing_listening_is_could_not_connect() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(spread.CouldNotConnect):
        spread.connect(f"{port}@127.0.0.1")


def test_handshake_rejects_raise_the_matching_errors(
    daemon: Daemon, connect: Connect
) -> None:
    connect("same")
    with pytest.raises(spread.RejectNotUnique) as info:
        spread.connect(daemon.address, "same")
    assert info.value.args == (spread.REJECT_NOT_UNIQUE, info.value.text)
    with pytest.raises(spread.RejectIllegalName):
        spread.connect(daemon.address, "much-too-long")


@pytest.mark.parametrize("group", ["", "a" * 32, "a b", "a#b", "é", "\x01"])
def test_join_and_leave_refuse_illegal_group_names(
    connect: Connect, group: str
) -> None:
    box = connect("j", 0)
    for method in (box.join, box.leave):
        with pytest.raises(spread.IllegalGroup) as info:
            method(group)
        assert info.value.code == spread.ILLEGAL_GROUP


@pytest.mark.parametrize(
    "service",
    [
        0,
        spread.SELF_DISCARD,
        spread.JOIN_MESS,
        spread.REG_MEMB_MESS | 1,
        spread.REJECT_MESS | 2,
    ],
)
def test_multicast_refuses_an_invalid_service_type_with_value_error(
    connect: Connect, service: int
) -> None:
    box = connect("s", 0)
    with pytest.raises(ValueError, match="invalid service type"):
        box.multicast(service, "g", b"x")


def test_multigroup_multicast_wants_a_non_empty_tuple(connect: Connect) -> None:
    box = connect("m", 0)
    with pytest.raises(TypeError):
        box.multigroup_multicast(spread.RELIABLE_MESS, ["g"], b"x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        box.multigroup_multicast(spread.RELIABLE_MESS, (), b"x")


def test_after_disconnect_every_method_raises_and_disconnect_is_idempotent(
    connect: Connect,
) -> None:
    box = connect("gone", 0)
    box.disconnect()
    box.disconnect()
    for call, name in [
        (box.receive, "receive"),
        (lambda: box.join("g"), "join"),
        (lambda: box.multicast(spread.RELIABLE_MESS, "g", b""), "multicast"),
        (box.poll, "poll"),
        (box.fileno, "fileno"),
    ]:
        with pytest.raises(spread.error, match=f"{name}\\(\\) called on closed mbox"):
            call()


def test_a_stopped_daemon_gives_connection_closed_then_net_error(
    make_daemon: Callable[..., Daemon],
) -> None:
    d = make_daemon()
    box = spread.connect(d.address, "orphan", 0, 0)
    d.stop()
    with pytest.raises(spread.ConnectionClosed, match="closed"):
        box.receive(timeout=WAIT)
    with pytest.raises(spread.NetErrorOnSession):
        box.multicast(spread.RELIABLE_MESS, "g", b"x")
    with pytest.raises(spread.NetErrorOnSession):
        box.receive(timeout=WAIT)
    box.disconnect()


def test_receive_with_a_timeout_raises_timeout_error(connect: Connect) -> None:
    box = connect("t", 0)
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        box.receive(timeout=0.2)
    assert 0.15 < time.monotonic() - start < 2


def test_poll_and_fileno_show_pending_bytes(connect: Connect) -> None:
    box = connect("p", 0)
    assert box.poll() == 0
    box.multicast(spread.RELIABLE_MESS, box.private_group, b"ping")
    assert select.select([box.fileno()], [], [], WAIT)[0]
    deadline = time.monotonic() + WAIT
    while box.poll() < 48 + 32 + 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert box.poll() == 48 + 32 + 4
    box.receive(timeout=WAIT)
    assert box.poll() == 0


def test_iterating_a_mailbox_ends_when_another_thread_disconnects_it(
    connect: Connect,
) -> None:
    box = connect("it", 0)
    box.multicast(spread.RELIABLE_MESS, box.private_group, b"one")
    got: list[spread.Message] = []
    reader = threading.Thread(target=lambda: got.extend(box))
    reader.start()
    time.sleep(0.3)
    box.disconnect()
    reader.join(WAIT)
    assert not reader.is_alive()
    assert [m.message for m in got] == [b"one"]  # type: ignore[union-attr]


def test_one_thread_can_receive_while_others_send_and_join(connect: Connect) -> None:
    box = connect("busy", 1)
    received: list[spread.Message] = []
    reader = threading.Thread(
        target=lambda: received.extend(box.receive(timeout=WAIT) for _ in range(1001))
    )
    reader.start()
    box.join("busy-g")

    def send(tag: int) -> None:
        for i in range(250):
            box.multicast(spread.AGREED_MESS, "busy-g", bytes([tag]) * 100, i)

    senders = [threading.Thread(target=send, args=(t,)) for t in range(4)]
    for t in senders:
        t.start()
    for t in senders + [reader]:
        t.join(WAIT * 2)
    assert len(received) == 1001
    assert sum(isinstance(m, spread.RegularMessage) for m in received) == 1000


def test_a_member_that_sends_a_lot_with_a_reader_thread_does_not_deadlock(
    connect: Connect,
) -> None:
    # §5.4: sending while messages for us pile up needs a concurrent reader
    box = connect("flood", 0)
    box.join("flood-g")
    count, size = 3000, 10240
    done = threading.Event()
    got = []

    def read() -> None:
        while len(got) < count:
            got.append(len(box.receive(timeout=WAIT * 2).message))  # type: ignore[union-attr]
        done.set()

    reader = threading.Thread(target=read)
    reader.start()
    payload = os.urandom(size)
    for _ in range(count):
        box.multicast(spread.RELIABLE_MESS, "flood-g", payload)
    assert done.wait(WAIT * 3)
    assert got == [size] * count


def test_a_sender_that_disconnects_at_once_loses_no_tail(
    connect: Connect, daemon: Daemon
) -> None:
    receiver = connect("tailr", 0)
    receiver.join("tail")
    receiver.multicast(spread.RELIABLE_MESS, receiver.private_group, b"sync")
    wait_for(receiver, lambda m: getattr(m, "message", None) == b"sync")
    sender = spread.connect(daemon.address, "tails", 0, 0)
    for i in range(2000):
        sender.multicast(spread.RELIABLE_MESS, "tail", b"z" * 1000, i % 30000)
    sender.disconnect()
    assert [m.msg_type for m in data_only(receiver, 2000, timeout=WAIT * 2)] == list(
        range(2000)
    )


def dribbling_daemon(frames: bytes, chunk: int) -> tuple[int, threading.Thread]:
    """A fake daemon that accepts one client, then sends ``frames`` ``chunk`` bytes at a time."""
    lst = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with lst, lst.accept()[0] as conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            hs = DaemonHandshake("fake", lambda n: True)
            while hs.stage.value != "accepted":
                step = hs.receive_data(conn.recv(4096))
                for b in (
                    step.send
                ):  # every byte separately: the client must read exact counts
                    conn.sendall(bytes([b]))
            for i in range(0, len(frames), chunk):
                conn.sendall(frames[i : i + chunk])
                time.sleep(0.001)
            conn.recv(4096)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return lst.getsockname()[1], t


@pytest.mark.parametrize("chunk", [1, 7, 48, 100])
def test_the_client_reassembles_frames_split_across_reads(chunk: int) -> None:
    me = codec.pad_name("#x#fake")
    frames = b"".join(
        codec.encode_message(
            spread.AGREED_MESS, me, [codec.pad_name("g")], i, bytes(i * 3)
        )
        for i in range(10)
    )
    port, thread = dribbling_daemon(frames, chunk)
    with spread.connect(f"{port}@127.0.0.1", "x") as box:
        msgs = [box.receive(timeout=WAIT) for _ in range(10)]
    thread.join(WAIT)
    assert [(m.msg_type, len(m.message)) for m in msgs] == [
        (i, i * 3) for i in range(10)
    ]  # type: ignore[union-attr]


def test_a_session_with_nothing_sent_to_it_receives_nothing(connect: Connect) -> None:
    assert nothing_arrives(connect("idle", 1))
