"""Untrusted peers against the running daemon over real TCP: each gets the protocol's error code or a
disconnect of its own session, and a healthy session keeps sending and receiving throughout (§3, §4.3, §6.2)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import spread
from spread import codec
from spread.daemon import Daemon, DaemonConfig
from spread.handshake import ClientHandshake, connect_message

from .helpers import (
    WAIT,
    is_disconnect_of,
    open_raw,
    raw_session,
    read_until_closed,
    wait_for,
    watcher_and_victim,
)
from .hostile_kit import Healthy, connect_from, handshake, machine_address

MakeDaemon = Callable[..., Daemon]


@pytest.fixture
def healthy(daemon: Daemon) -> Iterator[Healthy]:
    session = Healthy(daemon.address)
    session.ping()
    yield session
    session.close()


# --- the allow list, with real source addresses ------------------------------------------------------


def test_a_client_from_a_network_not_allowed_is_refused_with_0xf7_and_an_allowed_one_is_served(
    make_daemon: MakeDaemon,
) -> None:
    d = make_daemon(host="127.0.0.2", allow=("127.0.0.1/32",))
    healthy = Healthy(d.address)  # the kernel picks 127.0.0.1 as the source on lo
    try:
        healthy.ping()
        for source in ("127.0.0.3", "127.0.0.2", "127.1.2.3"):
            with connect_from(source, "127.0.0.2", d.port) as sock:
                assert handshake(sock, b"outsider") == b"\x05NULL \xf7"
            healthy.ping()
        with connect_from("127.0.0.1", "127.0.0.2", d.port) as sock:
            assert handshake(sock, b"insider") == b"\x05NULL \x01\x04\x04\x00\x12#insider#localhost"
        # the refused name was released: an allowed client may take it
        with connect_from("127.0.0.1", "127.0.0.2", d.port) as sock:
            assert handshake(sock, b"outsider").endswith(b"#outsider#localhost")
        healthy.ping()
    finally:
        healthy.close()


def test_the_client_library_reports_the_refusal_as_reject_auth(make_daemon: MakeDaemon) -> None:
    d = make_daemon(host="127.0.0.2", allow=("127.0.0.1/32",))
    with connect_from("127.0.0.9", "127.0.0.2", d.port) as sock:
        sock.sendall(connect_message("lib", True, 0))
        hs = ClientHandshake()
        with pytest.raises(spread.RejectAuth) as caught:
            while not hs.done:
                data = sock.recv(4096)
                assert data, "closed without a reject byte"
                if reply := hs.receive_data(data):
                    sock.sendall(reply)
    assert caught.value.code == spread.REJECT_AUTH == -9


def test_by_default_the_daemon_listens_on_loopback_and_refuses_non_loopback_clients(
    make_daemon: MakeDaemon,
) -> None:
    assert DaemonConfig().host == "127.0.0.1"
    ip = machine_address()
    d = make_daemon(host=ip)  # the default allow list: 127.0.0.0/8 and ::1
    with connect_from(ip, ip, d.port) as sock:
        assert handshake(sock, b"remote") == b"\x05NULL \xf7"
    with connect_from("127.0.0.1", ip, d.port) as sock:
        assert handshake(sock, b"local").endswith(b"#local#localhost")


def test_the_daemon_command_takes_the_allow_list_from_allow_flags() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "spread.daemon", "--host", "127.0.0.2", "--port", "0",
                             "--no-unix", "--allow", "127.0.0.1/32", "--allow", "127.0.0.5/32",
                             "--log-level", "WARNING"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().split()[-1].split("@")[0])
        for source, name, answer in (("127.0.0.3", b"three", b"\x05NULL \xf7"),
                                     ("127.0.0.5", b"five", b"#five#localhost"),
                                     ("127.0.0.1", b"one", b"#one#localhost")):
            with connect_from(source, "127.0.0.2", port) as sock:
                assert handshake(sock, name).endswith(answer), source
    finally:
        proc.terminate()
        proc.wait(WAIT)


# --- malformed handshakes ----------------------------------------------------------------------------

OPENINGS = [
    ("an HTTP request", b"GET / HTTP/1.1\r\nHost: spread\r\n\r\n", b"\xfb"),
    ("a TLS client hello", bytes.fromhex("160301020001000200030300") + bytes(40), b"\xfb"),
    ("zero bytes", bytes(64), b"\xf9"),
    ("a data frame instead of a connect message",
     codec.encode_message(spread.AGREED_MESS, codec.pad_name("#x#localhost"), [codec.pad_name("g")], 0, b"hi"),
     b"\xfb"),
    ("a name length of 255", bytes([4, 4, 0, 1, 255]) + b"a" * 255, b"\xfb"),
    ("a name length of 200 with no name", bytes([4, 4, 0, 1, 200]), b"\xfb"),
    ("version 0.0", bytes([0, 0, 0, 1, 1]) + b"a", b"\xf9"),
]


@pytest.mark.parametrize("opening,reply", [o[1:] for o in OPENINGS], ids=[o[0] for o in OPENINGS])
def test_a_malformed_connect_message_gets_its_reject_byte_and_others_are_undisturbed(
    daemon: Daemon, healthy: Healthy, opening: bytes, reply: bytes
) -> None:
    with open_raw(daemon.port) as sock:
        sock.sendall(opening)
        assert read_until_closed(sock) == reply
    healthy.ping()


@pytest.mark.parametrize("auth", [b"\xff" * 90, b"NULL" + b"x" * 86, b"NULL".ljust(90, b"\0") * 100],
                         ids=["binary", "no terminator", "an oversized block"])
def test_a_malformed_auth_choice_gets_0xf7_and_others_are_undisturbed(
    daemon: Daemon, healthy: Healthy, auth: bytes
) -> None:
    with open_raw(daemon.port) as sock:
        sock.sendall(bytes([4, 4, 0, 1, 3]) + b"bad")
        assert sock.recv(6) == b"\x05NULL "
        sock.sendall(auth)
        answer = read_until_closed(sock)
    if auth.startswith(b"NULL\0"):  # a valid choice followed by 8,910 bytes of nonsense frames
        assert answer.startswith(b"\x01\x04\x04\x00\x0e#bad#localhost")
    else:
        assert answer == b"\xf7"
    healthy.ping()


def test_a_handshake_cut_off_at_every_byte_leaves_others_undisturbed(daemon: Daemon, healthy: Healthy) -> None:
    connect = bytes([4, 4, 0, 1, 3]) + b"cut"
    for end in range(len(connect)):
        with open_raw(daemon.port) as sock:
            sock.sendall(connect[:end])
            sock.shutdown(socket.SHUT_WR)
            assert read_until_closed(sock) == b""
    with open_raw(daemon.port) as sock:  # the name was never taken by the halves
        assert handshake(sock, b"cut").endswith(b"#cut#localhost")
    healthy.ping()


def test_a_connect_flood_beyond_the_quota_gets_0xfd_and_others_are_undisturbed(make_daemon: MakeDaemon) -> None:
    d = make_daemon(max_sessions=20, connect_timeout=3.0)
    healthy = Healthy(d.address)  # one of the 20
    flood: list[socket.socket] = []
    try:
        for _ in range(60):
            flood.append(open_raw(d.port))
        healthy.ping()
        answers = [read_until_closed(sock) for sock in flood]  # the silent 19 are closed at their deadline
        assert answers.count(b"\xfd") >= 41 and set(answers) <= {b"\xfd", b""}
        healthy.ping()
        with spread.connect(d.address, "after") as late:  # the quota is free again
            assert late.private_group == "#after#localhost"
        healthy.ping()
    finally:
        for sock in flood:
            sock.close()
        healthy.close()


# --- frames after the handshake (bogus headers: test_disconnect.py) ----------------------------------


@pytest.mark.parametrize("cut", [20, 47, 48 + 32 + 10], ids=["mid-header", "one byte short", "mid-body"])
def test_a_truncated_frame_waits_harmlessly_and_its_close_is_a_disconnect(
    daemon: Daemon, healthy: Healthy, cut: int
) -> None:
    watcher, sock, pg = watcher_and_victim(daemon, "trunc")
    frame = codec.encode_message(spread.AGREED_MESS, codec.pad_name(pg), [codec.pad_name("g")], 0, b"x" * 100)
    with watcher:
        sock.sendall(frame[:cut])
        healthy.ping()  # the daemon serves others while the rest is missing
        sock.close()
        wait_for(watcher, is_disconnect_of(pg))
        healthy.ping()


# --- floods from one session --------------------------------------------------------------------------


def flood(sock: socket.socket, frame: bytes, stop: threading.Event | None = None) -> threading.Thread:
    """Send ``frame`` over and over from a thread, never reading, until ``stop`` is set or the daemon
    cuts the session off."""

    def run() -> None:
        burst = frame * 100
        try:
            while stop is None or not stop.is_set():
                sock.sendall(burst)
        except OSError:
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_session_flooding_itself_without_reading_is_cut_off_and_others_are_undisturbed(
    daemon: Daemon, healthy: Healthy
) -> None:
    watcher, sock, pg = watcher_and_victim(daemon, "flooder")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    frame = codec.encode_message(spread.AGREED_MESS, codec.pad_name(pg), [codec.pad_name("self")], 0, b"f" * 1000)
    with sock, watcher:
        sock.sendall(codec.encode_message(spread.JOIN_MESS, codec.pad_name(pg), [codec.pad_name("self")], 0, b""))
        sender = flood(sock, frame)  # it never reads back what it sends itself
        deadline = time.monotonic() + 4 * WAIT
        while time.monotonic() < deadline:
            healthy.ping()  # served while the flood lasts
            try:
                msg = watcher.receive(timeout=0.05)
            except TimeoutError:
                continue
            if is_disconnect_of(pg)(msg):
                break
        else:
            pytest.fail("the flooding session was never cut off")
        sender.join(WAIT)
        assert not sender.is_alive(), "the daemon cut the session off but the flooder can still send"
        healthy.ping()


def test_a_flood_to_an_empty_group_does_not_starve_others(daemon: Daemon, healthy: Healthy) -> None:
    sock, pg = raw_session(daemon.port, "spammer")
    frame = codec.encode_message(spread.AGREED_MESS, codec.pad_name(pg), [codec.pad_name("nobody")], 0,
                                 b"s" * 4000)
    stop = threading.Event()
    with sock:
        sender = flood(sock, frame, stop)
        try:
            for _ in range(50):
                healthy.ping()
            assert sender.is_alive(), "the flood ended before the pings: nothing was proved"
        finally:
            stop.set()
            sender.join(WAIT)
    healthy.ping()
