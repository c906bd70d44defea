"""Malformed bytes never hurt the daemon or its other sessions (§4.3, §12)."""

from __future__ import annotations

import socket
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spread
from spread import codec
from spread.daemon import Daemon

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

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
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
