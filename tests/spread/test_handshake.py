"""The connect handshake on the wire (§3, §13 items 1 and 2), against the embedded daemon."""

from __future__ import annotations

import time

import pytest

import spread
from spread.daemon import Daemon
from spread.handshake import ClientHandshake, DaemonHandshake, Stage

from .helpers import open_raw, raw_session, read_exact, read_until_closed

NULL_BLOCK = b"NULL".ljust(90, b"\0")


def handshake_reply(
    daemon: Daemon, connect: bytes, auth: bytes | None = NULL_BLOCK
) -> bytes:
    """Send a connect message (and the auth block after the auth list); return all replies."""
    sock = open_raw(daemon.port)
    with sock:
        sock.sendall(connect)
        first = read_exact(sock, 1)
        if not first or first[0] >= 0x80:
            return first + read_until_closed(sock)
        if auth is None:  # legacy library: no auth exchange (§3.2)
            return first + read_until_closed_or(sock)
        listing = read_exact(sock, first[0])
        sock.sendall(auth)
        return first + listing + read_until_closed_or(sock)


def read_until_closed_or(sock: object) -> bytes:
    """Bytes until EOF, or until a short pause once a session is accepted."""
    out = b""
    sock.settimeout(0.3)  # type: ignore[attr-defined]
    try:
        while chunk := sock.recv(4096):  # type: ignore[attr-defined]
            out += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return out


@pytest.mark.parametrize("flags", [0x00, 0x01, 0x10, 0x11])
def test_a_440_connect_is_answered_with_the_null_list_then_the_exact_accept_bytes(
    daemon: Daemon, flags: int
) -> None:
    reply = handshake_reply(daemon, bytes([4, 4, 0, flags, 6]) + b"probeA")
    assert reply == b"\x05NULL \x01\x04\x04\x00\x11#probeA#localhost"


def test_an_empty_name_gets_a_daemon_generated_r_name(daemon: Daemon) -> None:
    reply = handshake_reply(daemon, bytes([4, 4, 0, 1, 0]))
    assert reply[:10] == b"\x05NULL \x01\x04\x04\x00"
    name = reply[11:].decode()
    assert len(name) == reply[10]
    assert name.startswith("#r") and name.endswith("#localhost") and "-" in name
    assert len(name.split("#")[1]) <= 9


def test_a_ten_character_name_is_accepted(daemon: Daemon) -> None:
    reply = handshake_reply(daemon, bytes([4, 4, 0, 1, 10]) + b"abcdefghij")
    assert reply.endswith(b"#abcdefghij#localhost")


@pytest.mark.parametrize(
    "connect",
    [
        pytest.param(bytes([4, 4, 0, 1, 11]) + b"abcdefghijk", id="eleven characters"),
        pytest.param(bytes([4, 4, 0, 1, 3]) + b"a#b", id="hash"),
        pytest.param(bytes([4, 4, 0, 1, 3]) + b"a b", id="space"),
        pytest.param(bytes([4, 4, 0, 1, 2]) + b"a\x01", id="control character"),
        pytest.param(bytes([4, 4, 0, 1, 0x80]), id="negative length"),
    ],
)
def test_an_illegal_name_is_rejected_with_0xfb(daemon: Daemon, connect: bytes) -> None:
    assert handshake_reply(daemon, connect) == b"\xfb"


def test_a_name_starting_with_dollar_is_accepted(daemon: Daemon) -> None:
    assert handshake_reply(daemon, bytes([4, 4, 0, 1, 4]) + b"$abc").endswith(
        b"#$abc#localhost"
    )


def test_a_duplicate_name_is_rejected_with_0xfa(daemon: Daemon) -> None:
    first, _ = raw_session(daemon.port, "twin")
    with first:
        assert handshake_reply(daemon, bytes([4, 4, 0, 1, 4]) + b"twin") == b"\xfa"


def test_library_version_3_0_is_rejected_with_0xf9(daemon: Daemon) -> None:
    assert handshake_reply(daemon, bytes([3, 0, 1, 1]) + b"x") == b"\xf9"


@pytest.mark.parametrize(
    "auth",
    [b"IP".ljust(90, b"\0"), bytes(90), b"NULL".ljust(89, b"\0")],
    ids=["IP", "empty choice", "short block"],
)
def test_an_unavailable_or_missing_auth_choice_is_rejected_with_0xf7(
    daemon: Daemon, auth: bytes
) -> None:
    reply = handshake_reply(daemon, bytes([4, 4, 0, 1, 2]) + b"au", auth)
    if len(auth) < 90:  # the short block waits for more, then the deadline closes it
        assert reply == b"\x05NULL "
    else:
        assert reply == b"\x05NULL \xf7"


def test_an_auth_block_pipelined_with_the_connect_message_is_rejected_with_0xfb(
    daemon: Daemon,
) -> None:
    assert (
        handshake_reply(daemon, bytes([4, 4, 0, 1, 2]) + b"pp" + NULL_BLOCK) == b"\xfb"
    )


def test_a_split_connect_message_is_tolerated_within_the_deadline(
    daemon: Daemon,
) -> None:
    # deliberately more tolerant than the real daemon, which closes (§3.4, §12)
    sock = open_raw(daemon.port)
    with sock:
        sock.sendall(bytes([4, 4, 0, 1, 5]))
        time.sleep(0.3)
        sock.sendall(b"split")
        assert read_exact(sock, 6) == b"\x05NULL "


def test_a_silent_client_is_closed_after_one_second(daemon: Daemon) -> None:
    sock = open_raw(daemon.port)
    with sock:
        start = time.monotonic()
        assert read_until_closed(sock) == b""
        assert 0.8 <= time.monotonic() - start < 3.0


def test_library_3_14_sends_two_version_bytes_and_gets_no_auth_and_no_patch_byte(
    daemon: Daemon,
) -> None:
    reply = handshake_reply(daemon, bytes([3, 14, 1, 3]) + b"old", auth=None)
    assert reply == b"\x01\x04\x04\x0e#old#localhost"


def test_library_3_15_sends_a_patch_byte_and_gets_no_auth_but_a_patch_byte(
    daemon: Daemon,
) -> None:
    reply = handshake_reply(daemon, bytes([3, 15, 0, 1, 3]) + b"new", auth=None)
    assert reply == b"\x01\x04\x04\x00\x0e#new#localhost"


def test_a_full_daemon_answers_0xfd_before_reading(make_daemon: object) -> None:
    d = make_daemon(max_sessions=1)  # type: ignore[operator]
    first, _ = raw_session(d.port, "only")
    with first:
        sock = open_raw(d.port)
        with sock:
            assert read_until_closed(sock) == b"\xfd"


def test_a_client_outside_the_allow_list_gets_0xf7_after_auth(
    make_daemon: object,
) -> None:
    d = make_daemon(allow=("10.0.0.0/8",))  # type: ignore[operator]
    assert handshake_reply(d, bytes([4, 4, 0, 1, 2]) + b"no") == b"\x05NULL \xf7"


@pytest.mark.parametrize(
    "code,exc",
    [
        (0xFD, spread.RejectQuota),
        (0xFB, spread.RejectIllegalName),
        (0xFA, spread.RejectNotUnique),
        (0xF9, spread.RejectVersion),
        (0xF7, spread.RejectAuth),
    ],
)
def test_the_client_handshake_raises_the_matching_error_for_a_reject_byte(
    code: int, exc: type
) -> None:
    with pytest.raises(exc) as info:
        ClientHandshake().receive_data(bytes([code]))
    assert info.value.code == code - 256
    assert isinstance(info.value, spread.error)


def test_the_client_handshake_copes_with_one_byte_at_a_time() -> None:
    hs = ClientHandshake()
    sent = b"".join(hs.receive_data(bytes([b])) for b in b"\x05NULL ")
    assert sent == NULL_BLOCK
    for b in b"\x01\x04\x04\x00\x0c#me#daemonXY":
        hs.receive_data(bytes([b]))
    assert (
        hs.done
        and hs.private_group == "#me#daemonXY"
        and hs.daemon_version == (4, 4, 0)
    )


def test_the_client_refuses_a_daemon_without_null_auth() -> None:
    with pytest.raises(spread.RejectAuth):
        ClientHandshake().receive_data(b"\x03IP ")


def test_the_daemon_handshake_state_machine_walks_connect_auth_accept() -> None:
    taken: set[str] = set()
    hs = DaemonHandshake("d1", lambda n: n not in taken and not taken.add(n))  # type: ignore[func-returns-value]
    assert hs.receive_data(bytes([4, 4, 0, 0x11, 1])).send == b""
    step = hs.receive_data(b"z")
    assert step.send == b"\x05NULL " and hs.stage is Stage.AUTH
    assert hs.membership and hs.priority == 1
    step = hs.receive_data(NULL_BLOCK + b"tail")
    assert step.send == b"\x01\x04\x04\x00\x05#z#d1" and hs.leftover == b"tail"
    assert taken == {"z"}
