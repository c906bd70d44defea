"""Malformed bytes never hurt the daemon or its other sessions, and never make the client's decoder raise
anything but the protocol's errors or wait for a frame it would refuse (§4.3, §12)."""

from __future__ import annotations

import itertools
import socket
import struct

from hypothesis import given
from hypothesis import strategies as st

import spread
from spread import codec
from spread import constants as c
from spread.codec import FrameDecoder
from spread.daemon import Daemon
from spread.errors import RemoteProtocolError
from spread.messages import from_frame
from tests.hostile.fuzzing import fuzz

from .helpers import WAIT, raw_session

headers = st.builds(
    lambda t, ng, hint, dlen, tail: (
        struct.pack("<I32siIi", t, b"", ng, hint, dlen) + tail
    ),
    st.sampled_from(
        [0x80000002, 0x80000090, 0x80010080, 0x80020080, 0x80040080, 0x30, 0x02000000]
    )
    | st.integers(0, 2**32 - 1),
    st.integers(-5, 120),
    st.integers(0, 2**32 - 1),
    st.integers(-10, 150000),
    st.binary(max_size=200),
)
garbage = st.binary(max_size=400)


def ping(box: spread.Mailbox, n: int) -> None:
    box.multicast(spread.AGREED_MESS, "healthy", n.to_bytes(4, "big"))
    msg = box.receive(timeout=WAIT)
    assert isinstance(msg, spread.RegularMessage) and msg.message == n.to_bytes(
        4, "big"
    )


def test_fuzzed_connections_leave_a_working_session_unharmed(daemon: Daemon) -> None:
    healthy = spread.connect(daemon.address, "healthy", 0, 0)
    healthy.join("healthy")
    counter = iter(range(10**6))

    @fuzz
    @given(
        after_handshake=st.booleans(), payload=headers | garbage, own_name=st.booleans()
    )
    def attack(after_handshake: bool, payload: bytes, own_name: bool) -> None:
        if after_handshake:
            sock, pg = raw_session(daemon.port, "")
            if (
                own_name and len(payload) >= 48
            ):  # let some frames pass the private-name check
                payload = payload[:4] + codec.pad_name(pg) + payload[36:]
        else:
            sock = socket.create_connection(("127.0.0.1", daemon.port), timeout=WAIT)
        with sock:
            try:
                sock.sendall(payload)
            except OSError:
                pass
        ping(healthy, next(counter))

    try:
        attack()
        assert daemon._thread is not None and daemon._thread.is_alive()
    finally:
        healthy.disconnect()


# The most one frame from a daemon may take: a membership frame, or a reject's header, old type, groups, body.
LARGEST_FRAME = max(codec.MAX_MEMBERSHIP_FRAME,
                    c.MAX_GROUPS_PER_MESSAGE * codec.NAME_SIZE + c.MAX_MESSAGE_BODY_LEN) + c.HEADER_SIZE + 4
GOOD = codec.encode_message(spread.AGREED_MESS, codec.pad_name("#x#fake"), [codec.pad_name("g")], 7, b"fine")
INT32 = st.integers(-(2**31), 2**31 - 1)
daemon_headers = st.builds(
    lambda t, ng, dlen, tail: struct.pack("<I32siIi", t, b"#x#fake", ng, 0x80000080, dlen) + tail,
    st.sampled_from([0x80000004, 0x80001080, 0x80400004, 0x80000300, 0x80000000]) | st.integers(0, 2**32 - 1),
    st.integers(-3, 120) | INT32,
    st.integers(-3, 150000) | INT32,
    st.binary(max_size=200),
)


def announced(tail: bytes) -> int:
    """The size of the frame whose beginning ``tail`` holds."""
    h = codec.decode_header(tail)
    assert h.num_groups >= 0 and h.data_len >= 0
    return c.HEADER_SIZE + 4 + codec.NAME_SIZE * h.num_groups + h.data_len


@fuzz
@given(pieces=st.lists(daemon_headers | garbage | st.just(GOOD), max_size=8), cuts=st.lists(st.integers(0, 4000)))
def test_the_client_decoder_fed_anything_gives_messages_or_a_protocol_error(
    pieces: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(pieces)
    bounds = sorted({0, len(stream), *(n for n in cuts if n < len(stream))})
    decoder = FrameDecoder(from_daemon=True)
    try:
        for start, end in itertools.pairwise(bounds):
            for frame in decoder.feed(stream[start:end]):
                try:
                    from_frame(frame)
                except RemoteProtocolError:
                    pass  # an illegal or rejected message: the next one is still decoded
            if len(decoder.tail) >= c.HEADER_SIZE and decoder.error is None:
                assert announced(decoder.tail) <= LARGEST_FRAME  # it waits only for a frame it will take
    except RemoteProtocolError:
        assert decoder.error is not None  # a header no daemon sends: the session is broken for good
        try:
            decoder.feed(GOOD)
        except RemoteProtocolError as again:
            assert again is decoder.error
        else:
            raise AssertionError("the decoder went on after a malformed header")
