"""Data routing through the embedded daemon (§6, §13 items 3 and 4)."""

from __future__ import annotations

import struct
from collections.abc import Callable

import spread
from spread import codec
from spread.daemon import Daemon

from .helpers import (
    FrameReader,
    data_only,
    nothing_arrives,
    raw_session,
    receive,
    wait_for,
)

Connect = Callable[..., spread.Mailbox]


def joined(
    connect: Connect, name: str, *groups: str, membership: int = 0
) -> spread.Mailbox:
    box = connect(name, membership)
    for g in groups:
        box.join(g)
    return box


def settle(box: spread.Mailbox) -> None:
    """Round-trip a private message so every earlier request of ``box`` has been applied."""
    box.multicast(spread.RELIABLE_MESS, box.private_group, b"sync")
    wait_for(
        box, lambda m: isinstance(m, spread.RegularMessage) and m.message == b"sync"
    )


def test_a_message_to_one_group_reaches_every_member_including_the_sender(
    connect: Connect,
) -> None:
    a, b = joined(connect, "a", "g"), joined(connect, "b", "g")
    settle(a), settle(b)
    assert a.multicast(spread.AGREED_MESS, "g", b"hi", 5) == 2
    for box in (a, b):
        [msg] = data_only(box, 1)
        assert (msg.sender, msg.groups, msg.message, msg.msg_type, msg.endian) == (
            "#a#localhost",
            ("g",),
            b"hi",
            5,
            0,
        )


def test_a_member_of_several_destination_groups_gets_one_copy(connect: Connect) -> None:
    a, b = joined(connect, "a", "g1", "g2"), joined(connect, "b", "g2")
    settle(a), settle(b)
    a.multigroup_multicast(spread.SAFE_MESS, ("g1", "g2", "g1"), b"once")
    [msg] = data_only(a, 1)
    assert msg.groups == ("g1", "g2", "g1")
    a.multicast(spread.SAFE_MESS, a.private_group, b"marker")
    assert data_only(a, 1)[0].message == b"marker"
    assert data_only(b, 1)[0].message == b"once"


def test_a_private_group_is_a_point_to_point_destination(connect: Connect) -> None:
    a, b = connect("a", 0), connect("b", 0)
    a.multicast(spread.FIFO_MESS, b.private_group, b"direct")
    assert data_only(b, 1)[0].message == b"direct"
    assert nothing_arrives(a)


def test_a_sender_need_not_be_a_member(connect: Connect) -> None:
    member, outsider = joined(connect, "m", "open"), connect("o", 0)
    settle(member)
    outsider.multicast(spread.RELIABLE_MESS, "open", b"from outside")
    assert data_only(member, 1)[0].sender == "#o#localhost"
    assert nothing_arrives(outsider)


def test_an_unknown_group_or_missing_private_group_delivers_nothing(
    connect: Connect,
) -> None:
    a = connect("a", 0)
    a.multicast(spread.RELIABLE_MESS, "nobody-here", b"x")
    a.multicast(spread.RELIABLE_MESS, "#ghost#localhost", b"x")
    a.multigroup_multicast(spread.RELIABLE_MESS, ("nobody", "#ghost#localhost"), b"x")
    assert nothing_arrives(a)


def test_self_discard_keeps_the_message_from_its_sender(connect: Connect) -> None:
    a, b = joined(connect, "a", "g"), joined(connect, "b", "g")
    settle(a), settle(b)
    a.multicast(spread.AGREED_MESS | spread.SELF_DISCARD, "g", b"not to me")
    [msg] = data_only(b, 1)
    assert msg.message == b"not to me"
    a.multicast(spread.AGREED_MESS, a.private_group, b"marker")
    assert data_only(a, 1)[0].message == b"marker"


def test_a_session_without_membership_still_receives_data_but_no_notifications(
    connect: Connect,
) -> None:
    quiet = joined(connect, "q", "g", membership=0)
    settle(quiet)
    loud = joined(connect, "l", "g", membership=1)
    loud.multicast(spread.RELIABLE_MESS, "g", b"data")
    msg = receive(quiet)
    assert isinstance(msg, spread.RegularMessage) and msg.message == b"data"


def test_every_service_level_is_delivered(connect: Connect) -> None:
    a = joined(connect, "a", "g")
    settle(a)
    services = [
        spread.UNRELIABLE_MESS,
        spread.RELIABLE_MESS,
        spread.FIFO_MESS,
        spread.CAUSAL_MESS,
        spread.AGREED_MESS,
        spread.SAFE_MESS,
    ]
    for s in services:
        a.multicast(s, "g", b"s")
    assert [m.service_type for m in data_only(a, 6)] == services


def test_a_big_endian_client_is_forwarded_verbatim_apart_from_the_daemons_type_marker(
    daemon: Daemon,
) -> None:
    be, be_group = raw_session(daemon.port, "bigend")
    le, le_group = raw_session(daemon.port, "little")
    with be, le:
        join = codec.HEADER_LE.pack(
            spread.JOIN_MESS | 0x80000080, codec.pad_name(le_group), 1, 0x80000080, 0
        )
        le.sendall(join + codec.pad_name("g1"))
        reader = FrameReader(le)
        assert reader.next().type == spread.REG_MEMB_MESS | spread.CAUSED_BY_JOIN
        head = codec.HEADER_BE.pack(
            spread.AGREED_MESS | spread.SELF_DISCARD,
            codec.pad_name(be_group),
            1,
            0x00000700,
            5,
        )
        be.sendall(head + codec.pad_name("g1") + b"hello")
        frame = reader.next()
        start = len(reader.raw) - (48 + 32 + 5)
        raw = bytes(reader.raw[start:])
        # §6.1: d0000080 'sender' 01000000 00000700 05000000 'g1' 'hello'
        assert raw[:4] == bytes.fromhex("d0000080") and raw[36:48] == bytes.fromhex(
            "01000000 00000700 05000000"
        )
        assert raw[4:36] == codec.pad_name("#bigend#localhost") and raw[80:] == b"hello"
        assert (frame.mess_type, frame.endian_mismatch) == (7, 1)


def test_a_negative_msg_type_round_trips(connect: Connect) -> None:
    a = connect("a", 0)
    for t in (-1, -2, -32768, 32767, 70000):
        a.multicast(spread.RELIABLE_MESS, a.private_group, b"", t)
    assert [m.msg_type for m in data_only(a, 5)] == [
        -1,
        -2,
        -32768,
        32767,
        70000 - 65536,
    ]


def test_the_hint_travels_verbatim_as_the_sender_wrote_it(daemon: Daemon) -> None:
    sock, pg = raw_session(daemon.port, "hinter")
    with sock:
        hint = struct.pack(
            ">I", 0x00FFFE00
        )  # -2 from a big-endian writer, in a LE header
        head = codec.HEADER_LE.pack(
            spread.RELIABLE_MESS | 0x80000080, codec.pad_name(pg), 1, 0, 0
        )
        sock.sendall(head[:40] + hint + head[44:] + codec.pad_name(pg))
        reader = FrameReader(sock)
        frame = reader.next()
        assert (
            bytes(reader.raw[40:44]) == hint
            and frame.mess_type == -2
            and frame.endian_mismatch == 1
        )
