"""Every path that ends a session produces CAUSED_BY_DISCONNECT for the others (§4.3, §6.2, §7.5)."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable

import pytest

import spread
from spread import codec
from spread.daemon import Daemon

from .helpers import (
    WAIT,
    is_disconnect_of,
    raw_session,
    read_until_closed,
    wait_for,
    watcher_and_victim,
)

MARK = 0x80000080


def header(t: int, sender: str, ng: int = 1, hint: int = MARK, dlen: int = 0) -> bytes:
    return codec.HEADER_LE.pack(t, codec.pad_name(sender), ng, hint, dlen)


VIOLATIONS: list[tuple[str, Callable[[str], bytes]]] = [
    ("two service bits", lambda pg: header(0x30 | MARK, pg) + codec.pad_name("g")),
    (
        "a spoofed membership bit",
        lambda pg: header(0x1010 | MARK, pg) + codec.pad_name("g"),
    ),
    (
        "join and leave at once",
        lambda pg: header(0x30000 | MARK, pg) + codec.pad_name("g"),
    ),
    (
        "no service bit",
        lambda pg: header(spread.SELF_DISCARD | MARK, pg) + codec.pad_name("g"),
    ),
    (
        "a wrong private name",
        lambda pg: (
            header(spread.AGREED_MESS | MARK, "#other#localhost") + codec.pad_name("g")
        ),
    ),
    (
        "a wrong daemon name",
        lambda pg: (
            header(spread.AGREED_MESS | MARK, pg.replace("localhost", "elsewhere"))
            + codec.pad_name("g")
        ),
    ),
    ("101 groups", lambda pg: header(spread.AGREED_MESS | MARK, pg, ng=101)),
    ("negative groups", lambda pg: header(spread.AGREED_MESS | MARK, pg, ng=-1)),
    (
        "bad hint bits",
        lambda pg: (
            header(spread.AGREED_MESS | MARK, pg, hint=MARK | 0x01000000)
            + codec.pad_name("g")
        ),
    ),
    ("a negative length", lambda pg: header(spread.AGREED_MESS | MARK, pg, dlen=-1)),
    (
        "a join of an illegal group",
        lambda pg: header(spread.JOIN_MESS | MARK, pg) + codec.pad_name("#x"),
    ),
    (
        "a GROUPS_MESS",
        lambda pg: header(spread.GROUPS_MESS | MARK, pg) + codec.pad_name("g"),
    ),
    # headers announcing more than a message may hold: refused before any body is awaited
    ("data_len 2**31-1, header only", lambda pg: header(spread.AGREED_MESS | MARK, pg, dlen=2**31 - 1)),
    ("num_groups 2**31-1", lambda pg: header(spread.AGREED_MESS | MARK, pg, ng=2**31 - 1)),
    ("one byte over the body limit, header only",
     lambda pg: header(spread.AGREED_MESS | MARK, pg, ng=0, dlen=143953)),
    ("100 groups and a body that together exceed the limit",
     lambda pg: header(spread.AGREED_MESS | MARK, pg, ng=100, dlen=140753)),
    ("a join announcing 5000 groups", lambda pg: header(spread.JOIN_MESS | MARK, pg, ng=5000)),
    ("a big-endian header with a huge length",
     lambda pg: codec.HEADER_BE.pack(spread.AGREED_MESS, codec.pad_name(pg), 1, 0x80, 10**9)),
    ("48 bytes of 0xff", lambda pg: b"\xff" * 48),
    ("an HTTP request", lambda pg: b"GET / HTTP/1.1\r\nHost: spread\r\n\r\n" + bytes(20)),
]


@pytest.mark.parametrize(
    "build", [v[1] for v in VIOLATIONS], ids=[v[0] for v in VIOLATIONS]
)
def test_a_protocol_violation_kills_the_session_and_others_see_a_disconnect(
    daemon: Daemon, build: Callable[[str], bytes]
) -> None:
    watcher, sock, pg = watcher_and_victim(daemon, "victim")
    with sock, watcher:
        sock.sendall(build(pg))
        msg = wait_for(watcher, is_disconnect_of(pg))
        assert msg.members == ("#watcher#localhost",)  # type: ignore[union-attr]
        read_until_closed(sock)  # raises TimeoutError unless the daemon closed
        watcher.multicast(spread.AGREED_MESS, "g", b"still served")  # the other session goes on
        got = wait_for(watcher, lambda m: isinstance(m, spread.RegularMessage))
        assert got.message == b"still served"  # type: ignore[union-attr]


def test_a_kill_message_ends_the_session_quietly(daemon: Daemon) -> None:
    watcher, sock, pg = watcher_and_victim(daemon, "killer")
    with sock, watcher:
        sock.sendall(header(spread.KILL_MESS | MARK, pg) + codec.pad_name(pg))
        wait_for(watcher, is_disconnect_of(pg))
        read_until_closed(sock)  # raises TimeoutError unless the daemon closed


def test_an_abrupt_close_and_a_reset_are_disconnects(daemon: Daemon) -> None:
    watcher, sock, pg = watcher_and_victim(daemon, "closer")
    _, sock2, pg2 = None, *raw_session(daemon.port, "resetter")
    with watcher:
        sock2.sendall(
            codec.encode_message(
                spread.JOIN_MESS, codec.pad_name(pg2), [codec.pad_name("g")], 0, b""
            )
        )
        wait_for(
            watcher,
            lambda m: isinstance(m, spread.MembershipMessage) and pg2 in m.members,
        )
        sock.close()
        wait_for(watcher, is_disconnect_of(pg))
        sock2.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock2.close()  # RST
        wait_for(watcher, is_disconnect_of(pg2))


def test_messages_sent_before_a_kill_arrive_before_the_disconnect(
    daemon: Daemon,
) -> None:
    watcher, sock, pg = watcher_and_victim(daemon, "last")
    with sock, watcher:
        data = b"".join(
            codec.encode_message(
                spread.AGREED_MESS, codec.pad_name(pg), [codec.pad_name("g")], i, b"x"
            )
            for i in range(50)
        )
        sock.sendall(data + header(spread.KILL_MESS | MARK, pg) + codec.pad_name(pg))
        seen = []
        msg = watcher.receive(timeout=WAIT)
        while not is_disconnect_of(pg)(msg):
            seen.append(msg.msg_type)  # type: ignore[union-attr]
            msg = watcher.receive(timeout=WAIT)
        assert seen == list(range(50))


@pytest.mark.parametrize(
    "grace", [0.0, 0.5], ids=["kill at once", "after a grace period"]
)
def test_a_reader_that_stops_reading_is_killed_once_over_1000_queued(
    make_daemon: Callable[..., Daemon], grace: float
) -> None:
    d = make_daemon(slow_reader_grace=grace)
    watcher = spread.connect(d.address, "watcher")
    sender = spread.connect(d.address, "sender", 0, 0)
    sleeper, pg = raw_session(d.port, "sleeper")
    sleeper.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        watcher.join("g")
        for g in (
            "data",
            "g",
        ):  # the watcher stays out of "data", so only the sleeper lags
            sleeper.sendall(
                codec.encode_message(
                    spread.JOIN_MESS, codec.pad_name(pg), [codec.pad_name(g)], 0, b""
                )
            )
        wait_for(
            watcher,
            lambda m: isinstance(m, spread.MembershipMessage) and pg in m.members,
        )
        start = time.monotonic()
        for _ in range(3000):  # a few MB: far more than socket buffers hold
            sender.multicast(spread.RELIABLE_MESS, "data", b"x" * 2000)
        wait_for(watcher, is_disconnect_of(pg), timeout=10)
        assert time.monotonic() - start < 8
    finally:
        sleeper.close()
        watcher.disconnect()
        sender.disconnect()


def test_a_slow_but_steady_reader_survives_a_burst_thanks_to_the_grace_period(
    make_daemon: Callable[..., Daemon],
) -> None:
    d = make_daemon(slow_reader_grace=2.0, max_session_messages=50)
    reader = spread.connect(d.address, "reader", 0, 0)
    sender = spread.connect(d.address, "sender", 0, 0)
    try:
        reader.join("g")
        time.sleep(0.1)
        for i in range(2000):
            sender.multicast(spread.RELIABLE_MESS, "g", b"y" * 1000, i % 1000)
        got = 0
        while got < 2000:
            msg = reader.receive(timeout=WAIT)
            got += 1
            if got % 200 == 0:
                time.sleep(0.01)
        assert isinstance(msg, spread.RegularMessage) and msg.msg_type == 1999 % 1000
    finally:
        reader.disconnect()
        sender.disconnect()
