"""Membership notifications (§7, §13 items 5 and 6): bytes, ordering, group ids, self-leave."""

from __future__ import annotations

import struct
from collections.abc import Callable

import spread
from spread import codec
from spread.daemon import Daemon

from .helpers import FrameReader, nothing_arrives, raw_session, receive, wait_for

Connect = Callable[..., spread.Mailbox]
JOIN = spread.REG_MEMB_MESS | spread.CAUSED_BY_JOIN
LEAVE = spread.REG_MEMB_MESS | spread.CAUSED_BY_LEAVE
DISCONNECT = spread.REG_MEMB_MESS | spread.CAUSED_BY_DISCONNECT


def memb(box: spread.Mailbox) -> spread.MembershipMessage:
    msg = receive(box)
    assert isinstance(msg, spread.MembershipMessage), msg
    return msg


def test_a_join_notification_has_the_verified_byte_layout(daemon: Daemon) -> None:
    sock, pg = raw_session(daemon.port, "probeA")
    with sock:
        sock.sendall(
            codec.encode_message(
                spread.JOIN_MESS, codec.pad_name(pg), [codec.pad_name("g1")], 0, b""
            )
        )
        reader = FrameReader(sock)
        reader.next()
        raw = bytes(reader.raw)
    probe = codec.pad_name("#probeA#localhost")
    assert raw[:48] == bytes.fromhex("80110080") + codec.pad_name("g1") + bytes.fromhex(
        "01000000 80000080 38000000"
    )
    assert raw[48:80] == probe
    body = raw[80:]
    assert len(body) == 56
    assert body[:4] == bytes.fromhex("0100007f")  # 127.0.0.1 from an LE daemon (§7.2)
    assert struct.unpack("<I", body[4:8])[0] == daemon.start_time
    assert (
        body[8:24] == bytes.fromhex("01000000 01000000 00000000 01000000")
        and body[24:] == probe
    )


def test_members_are_sorted_by_name_and_extra_holds_the_changed_member(
    connect: Connect,
) -> None:
    z, a = connect("zed"), connect("abe")
    z.join("g")
    assert memb(z).members == ("#zed#localhost",)
    a.join("g")
    for box in (z, a):
        m = memb(box)
        assert m.reason == spread.CAUSED_BY_JOIN and m.service_type == JOIN
        assert m.members == ("#abe#localhost", "#zed#localhost")
        assert m.extra == ("#abe#localhost",) and m.changed_member == "#abe#localhost"
        assert m.msg_subtype == spread.REG_MEMB_MESS and m.group == "g"


def test_the_group_id_index_counts_changes_and_restarts_after_the_group_empties(
    connect: Connect,
) -> None:
    watcher, b, c = connect("w"), connect("b"), connect("c", 0)
    watcher.join("g")
    first = memb(watcher).group_id
    b.join("g")
    c.join("g")
    b.leave("g")
    b.join("g")
    c.disconnect()
    ids = [first] + [memb(watcher).group_id for _ in range(5)]
    assert [i.index for i in ids if i] == [1, 2, 3, 4, 5, 6]
    assert len({(i.proc_id, i.time) for i in ids if i}) == 1
    b.leave("g")
    memb(watcher)
    watcher.leave("g")
    assert memb(watcher).is_self_leave
    watcher.join("g")
    assert memb(watcher).group_id == spread.GroupId(ids[0].proc_id, ids[0].time, 1)  # type: ignore[union-attr]


def test_the_leaver_gets_a_self_leave_then_the_rest_get_leave(connect: Connect) -> None:
    a, b = connect("a"), connect("b")
    a.join("g")
    b.join("g")
    memb(a), memb(a), memb(b)
    b.leave("g")
    own = memb(b)
    assert (own.service_type, own.reason, own.group, own.members, own.group_id) == (
        spread.CAUSED_BY_LEAVE,
        spread.CAUSED_BY_LEAVE,
        "g",
        (),
        None,
    )
    other = memb(a)
    assert other.service_type == LEAVE and other.members == ("#a#localhost",)
    assert other.changed_member == "#b#localhost"


def test_the_last_member_leaving_gets_only_a_self_leave(connect: Connect) -> None:
    a = connect("a")
    a.join("solo")
    memb(a)
    a.leave("solo")
    assert memb(a).is_self_leave
    assert nothing_arrives(a)


def test_double_join_and_leaving_a_group_never_joined_produce_nothing(
    connect: Connect,
) -> None:
    a = connect("a")
    a.join("g")
    memb(a)
    a.join("g")
    a.leave("never")
    assert nothing_arrives(a)


def test_a_non_membership_session_gets_no_self_leave_but_others_see_it_go(
    connect: Connect,
) -> None:
    watcher, quiet = connect("w"), connect("q", 0)
    watcher.join("g")
    quiet.join("g")
    memb(watcher), memb(watcher)
    quiet.leave("g")
    assert memb(watcher).service_type == LEAVE
    assert nothing_arrives(quiet)


def test_a_disconnect_is_reported_per_group_in_name_order(connect: Connect) -> None:
    watcher, leaver = connect("w"), connect("l")
    for g in ("b-group", "a-group"):
        watcher.join(g)
        leaver.join(g)
        wait_for(
            watcher,
            lambda m: isinstance(m, spread.MembershipMessage) and len(m.members) == 2,
        )
    leaver.disconnect()
    seen = [
        wait_for(
            watcher,
            lambda m: (
                isinstance(m, spread.MembershipMessage) and m.service_type == DISCONNECT
            ),
        )
        for _ in range(2)
    ]
    assert [m.group for m in seen] == ["a-group", "b-group"]  # type: ignore[union-attr]


def test_a_join_beyond_the_member_limit_gets_a_reject(
    make_daemon: Callable[..., Daemon],
) -> None:
    d = make_daemon(max_group_members=1)
    a = spread.connect(d.address, "a")
    b = spread.connect(d.address, "b")
    try:
        a.join("g")
        b.join("g")
        try:
            b.receive(timeout=5)
        except spread.RejectedMessage as exc:
            assert exc.service_type == spread.REJECT_MESS | spread.CAUSED_BY_JOIN
            assert exc.group == "g"
        else:
            raise AssertionError("no reject")
    finally:
        a.disconnect()
        b.disconnect()
