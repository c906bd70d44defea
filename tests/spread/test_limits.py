"""Message size limits (§9, §13 item 9): the client's MESSAGE_TOO_LONG and the daemon's bounds."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import spread
from spread.daemon import Daemon

from .helpers import WAIT, data_only, is_disconnect_of, wait_for

Connect = Callable[..., spread.Mailbox]


@pytest.mark.parametrize(
    "groups,payload,ok",
    [
        (1, 143119, True),
        (1, 143120, False),
        (3, 143055, True),
        (3, 143056, False),
        (100, 139951, True),
    ],
)
def test_the_client_refuses_more_than_143151_bytes_of_payload_and_group_names(
    connect: Connect, groups: int, payload: int, ok: bool
) -> None:
    box = connect("big", 0)
    names = tuple(f"g{i}" for i in range(groups))
    if ok:
        assert (
            box.multigroup_multicast(spread.RELIABLE_MESS, names, bytes(payload))
            == payload
        )
    else:
        with pytest.raises(spread.MessageTooLong) as info:
            box.multigroup_multicast(spread.RELIABLE_MESS, names, bytes(payload))
        assert info.value.args[0] == spread.MESSAGE_TOO_LONG


def test_max_message_can_be_raised_to_the_c_librarys_144000_but_no_further(
    daemon: Daemon,
) -> None:
    box = spread.connect(daemon.address, "wide", 0, 0, max_message=144000)
    with box, pytest.raises(spread.MessageTooLong):
        box.multicast(spread.RELIABLE_MESS, "g", bytes(144000 - 31))
    with pytest.raises(ValueError):
        spread.connect(daemon.address, "toowide", max_message=144001)


def test_the_daemon_delivers_the_largest_safe_message_intact(connect: Connect) -> None:
    box = connect("big", 0)
    box.join("g")
    payload = bytes(range(256)) * 559 + b"x" * 15  # 143,119 bytes
    assert len(payload) == 143119
    box.multicast(spread.RELIABLE_MESS, "g", payload)
    assert data_only(box, 1)[0].message == payload


@pytest.mark.parametrize("payload", [143120, 143121, 143500, 143920])
def test_the_daemon_survives_and_delivers_what_crashes_the_real_one(
    connect: Connect, payload: int
) -> None:
    box = connect("mid", 0, max_message=144000)
    box.join("g")
    box.multicast(spread.RELIABLE_MESS, "g", bytes(payload))
    assert len(data_only(box, 1)[0].message) == payload


def test_the_daemon_kills_a_session_at_143953_and_keeps_serving_others(
    daemon: Daemon, connect: Connect
) -> None:
    watcher = connect("w")
    watcher.join("g")
    big = connect("huge", 0, max_message=144000)
    big.join("g")
    wait_for(
        watcher,
        lambda m: isinstance(m, spread.MembershipMessage) and len(m.members) == 2,
    )
    with pytest.raises(spread.ConnectionClosed):
        for _ in range(50):  # the daemon closes while the body is still being written
            big.multicast(spread.RELIABLE_MESS, "g", bytes(143921))
            big.receive(timeout=WAIT)
    wait_for(watcher, is_disconnect_of("#huge#localhost"))
    watcher.multicast(spread.RELIABLE_MESS, "g", b"still here")
    assert data_only(watcher, 1)[0].message == b"still here"


def test_at_most_100_groups_per_message(connect: Connect) -> None:
    box = connect("many", 0)
    with pytest.raises(spread.IllegalGroup):
        box.multigroup_multicast(
            spread.RELIABLE_MESS, tuple(f"g{i}" for i in range(101)), b""
        )
