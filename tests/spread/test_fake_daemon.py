"""The client against a fake daemon (a raw socket server): malformed handshakes and frames give a clear
error at once, never a hang or an allocation the peer controls (§3, §4, §7)."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import spread
from spread import codec
from spread.codec import GroupIdValue
from spread.handshake import DaemonHandshake, Stage

from .helpers import WAIT

ME = "#me#fake"
MARK = 0x80000080


@contextmanager
def fake_daemon(opening: bytes | None = None, after_accept: bytes = b"", close: bool = False) -> Iterator[str]:
    """A one-client daemon on 127.0.0.1. With ``opening`` it answers the connect message with those
    bytes; otherwise it runs a real handshake and then sends ``after_accept``. Then it closes if
    ``close``, else keeps the connection open, reading, until the client closes or the block ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve() -> None:
        with listener, listener.accept()[0] as conn:
            conn.settimeout(0.1)
            if opening is not None:
                conn.recv(4096)
                conn.sendall(opening)
            else:
                hs = DaemonHandshake("fake", lambda n: True)
                while hs.stage is not Stage.ACCEPTED:
                    step = hs.receive_data(conn.recv(4096))
                    conn.sendall(step.send)
                conn.sendall(after_accept)
            while not close and not done.is_set():
                try:
                    if not conn.recv(65536):
                        return
                except TimeoutError:
                    continue
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"{listener.getsockname()[1]}@127.0.0.1"
    finally:
        done.set()
        thread.join(WAIT)


HANDSHAKES = [
    ("an unknown reject byte", b"\xc0", spread.RejectedSession, "unknown code -64"),
    ("an auth list longer than 90 bytes", b"\x78" + b"N" * 120, spread.ConnectionClosed, "auth list length of 120"),
    ("an HTTP answer", b"HTTP/1.1 400 Bad Request\r\n" * 4, spread.RejectAuth, "does not offer auth method"),
    ("an accept code without NULL auth", b"\x01\x04\x04\x00", spread.RejectAuth, "does not offer"),
]


@pytest.mark.parametrize("opening,exc,text", [h[1:] for h in HANDSHAKES], ids=[h[0] for h in HANDSHAKES])
def test_a_malformed_handshake_answer_is_a_clear_error(opening: bytes, exc: type, text: str) -> None:
    with fake_daemon(opening) as address, pytest.raises(exc, match=re.escape(text)):
        spread.connect(address, "me", timeout=WAIT)


@pytest.mark.parametrize("opening", [b"", b"\x05NULL ", b"\x05NULL \x01\x04\x04\x00\x0c#me#"],
                         ids=["at once", "after the auth list", "inside the accept"])
def test_a_daemon_that_closes_mid_handshake_is_connection_closed(opening: bytes) -> None:
    with fake_daemon(opening, close=True) as address, \
            pytest.raises(spread.ConnectionClosed, match="closed by spread during the handshake"):
        spread.connect(address, "me", timeout=WAIT)


@pytest.mark.parametrize("opening", [b"", b"\x05NULL ", b"\x05NULL \x01\x04\x04\x00\xc8#me#"],
                         ids=["nothing", "the auth list only", "an accept promising 200 bytes of name"])
def test_a_daemon_that_goes_quiet_mid_handshake_gives_up_after_the_timeout(opening: bytes) -> None:
    with fake_daemon(opening) as address, pytest.raises(spread.ConnectionClosed, match="no answer"):
        spread.connect(address, "me", timeout=0.5)


def data_head(ng: int = 1, dlen: int = 0, t: int = spread.AGREED_MESS) -> bytes:
    return codec.HEADER_LE.pack(t | MARK, codec.pad_name("#x#fake"), ng, MARK, dlen)


def membership(group: str, members: int, body: bytes) -> bytes:
    slots = [codec.pad_name(f"#m{i}#fake") for i in range(members)]
    return codec.encode_membership(spread.REG_MEMB_MESS | spread.CAUSED_BY_JOIN, codec.pad_name(group), slots, body)


GOOD = codec.encode_message(spread.AGREED_MESS, codec.pad_name("#x#fake"), [codec.pad_name("g")], 7, b"fine")

FRAMES = [
    ("a data_len of 2**31-1", data_head(dlen=2**31 - 1), "data_len 2147483647 exceeds 144000"),
    ("a data_len one above the largest message", data_head(dlen=144001), "data_len 144001 exceeds 144000"),
    ("101 groups on a data message", data_head(ng=101), "num_groups 101 exceeds 100"),
    ("2**31-1 groups", data_head(ng=2**31 - 1), "num_groups 2147483647 exceeds 100"),
    ("a negative data_len", data_head(dlen=-1), "negative num_groups 1 or data_len -1"),
    ("a negative group count", data_head(ng=-7), "negative num_groups -7"),
    ("a membership of 600,000 members", data_head(ng=600_000, t=spread.REG_MEMB_MESS | spread.CAUSED_BY_JOIN),
     "membership frame of 19200000 bytes exceeds 16777216"),
]


@pytest.mark.parametrize("frame,text", [f[1:] for f in FRAMES], ids=[f[0] for f in FRAMES])
def test_a_frame_announcing_too_much_is_refused_at_its_header_and_breaks_the_session(
    frame: bytes, text: str
) -> None:
    with fake_daemon(after_accept=GOOD + frame) as address, spread.connect(address, "me") as box:
        assert box.receive(timeout=WAIT).message == b"fine"  # type: ignore[union-attr]
        with pytest.raises(spread.IllegalMessage, match=re.escape(f"malformed frame from the daemon: {text}")):
            box.receive(timeout=WAIT)  # at once: the body is never awaited
        with pytest.raises(spread.NetErrorOnSession):
            box.receive(timeout=WAIT)
        with pytest.raises(spread.NetErrorOnSession):
            box.multicast(spread.AGREED_MESS, "g", b"x")


def test_a_malformed_frame_in_the_same_packet_as_the_accept_is_reported_by_the_first_receive() -> None:
    accept = b"\x05NULL \x01\x04\x04\x00\x08" + ME.encode()
    with fake_daemon(accept + data_head(ng=-1)) as address, spread.connect(address, "me", timeout=WAIT) as box:
        assert box.private_group == ME
        with pytest.raises(spread.IllegalMessage, match="malformed frame from the daemon: negative num_groups -1"):
            box.receive(timeout=WAIT)
        with pytest.raises(spread.NetErrorOnSession):
            box.receive(timeout=WAIT)


BODIES = [
    ("a body shorter than its 20-byte head", b"\x01" * 12, "shorter than 20"),
    ("a vs-set count of 2**32-1", codec.GID_LE.pack(1, 2, 3) + codec.U32_LE.pack(2**32 - 1) + bytes(4),
     "ends inside a vs-set"),
    ("a vs-set claiming 2**32-1 members",
     codec.GID_LE.pack(1, 2, 3) + codec.U32_LE.pack(1) + bytes(4) + codec.U32_LE.pack(2**32 - 1),
     "ends inside a vs-set"),
]


@pytest.mark.parametrize("body,text", [b[1:] for b in BODIES], ids=[b[0] for b in BODIES])
def test_a_malformed_membership_body_is_refused_and_the_next_message_still_arrives(body: bytes, text: str) -> None:
    good_join = membership("g", 1, codec.encode_change_body(GroupIdValue(1, 2, 3), codec.pad_name("#m0#fake")))
    with fake_daemon(after_accept=membership("g", 1, body) + good_join + GOOD) as address, \
            spread.connect(address, "me") as box:
        with pytest.raises(spread.IllegalMessage, match=text):
            box.receive(timeout=WAIT)
        joined = box.receive(timeout=WAIT)
        assert isinstance(joined, spread.MembershipMessage) and joined.members == ("#m0#fake",)
        assert box.receive(timeout=WAIT).message == b"fine"  # type: ignore[union-attr]


def test_a_frame_of_an_unknown_kind_is_refused_and_the_stream_goes_on() -> None:
    odd = codec.HEADER_LE.pack(0x00000000 | MARK, codec.pad_name("#x#fake"), 0, MARK, 3) + b"abc"
    with fake_daemon(after_accept=odd + GOOD) as address, spread.connect(address, "me") as box:
        with pytest.raises(spread.IllegalMessage, match="unknown service type"):
            box.receive(timeout=WAIT)
        assert box.receive(timeout=WAIT).message == b"fine"  # type: ignore[union-attr]


def test_the_largest_legal_frames_still_pass() -> None:
    big = codec.encode_message(spread.AGREED_MESS, codec.pad_name("#x#fake"),
                               [codec.pad_name(f"g{i}") for i in range(100)], 1, bytes(144000))
    members = 3122  # the most local members one group may have
    body = codec.encode_membership_body(GroupIdValue(1, 2, 3), [[codec.pad_name(f"#m{i}#fake")
                                                                  for i in range(members)]])
    with fake_daemon(after_accept=big + membership("g", members, body)) as address, \
            spread.connect(address, "me") as box:
        msg = box.receive(timeout=WAIT)
        assert isinstance(msg, spread.RegularMessage) and len(msg.message) == 144000 and len(msg.groups) == 100
        memb = box.receive(timeout=WAIT)
        assert isinstance(memb, spread.MembershipMessage) and len(memb.members) == members
