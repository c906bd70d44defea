"""The sans-IO codec (§4, §7): headers, hints, names, membership and reject bodies, frame decoding."""

from __future__ import annotations

import struct

import pytest

import spread
from spread import codec
from spread.codec import FrameDecoder, GroupIdValue

PROBE_A = codec.pad_name("#probeA#localhost")
G1 = codec.pad_name("g1")


@pytest.mark.parametrize(
    "raw,little",
    [
        (b"\x80\x00\x00\x80", True),
        (b"\x00\x00\x00\x00", False),
        (b"\x80\x00\x00\x00", False),
        (b"\x00\x00\x00\x80", False),
        (b"\xd0\x00\x00\x80", True),
    ],
)
def test_the_endian_marker_is_read_from_bytes_0_and_3(raw: bytes, little: bool) -> None:
    assert codec.marker_is_little(raw[0], raw[3]) is little


@pytest.mark.parametrize(
    "raw,mess_type,hint_little",
    [
        (
            struct.pack("<I", 0x80FFFE80),
            -2,
            True,
        ),  # §4.1: -2 from a little-endian sender
        (struct.pack("<I", 0x80000780), 7, True),
        (bytes.fromhex("00000700"), 7, False),  # §4.2: BE sender, marker clear
        (struct.pack(">I", 0x00FFFF00), -1, False),
        (struct.pack("<I", 0x807FFF80), 32767, True),
        (struct.pack("<I", 0x80800080), -32768, True),
    ],
)
def test_a_hint_is_decoded_by_its_own_marker_into_a_signed_mess_type(
    raw: bytes, mess_type: int, hint_little: bool
) -> None:
    hint, little = codec.decode_hint(raw)
    assert little is hint_little
    assert codec.mess_type_from_hint(hint) == mess_type


@pytest.mark.parametrize(
    "mess_type,hint",
    [
        (0, 0x80000080),
        (7, 0x80000780),
        (-2, 0x80FFFE80),
        (65537, 0x80000180),
        (-32768, 0x80800080),
    ],
)
def test_the_client_hint_truncates_mess_type_to_16_bits(
    mess_type: int, hint: int
) -> None:
    assert codec.hint_for(mess_type) == hint


def test_the_verified_join_notification_decodes_field_by_field() -> None:
    # §7.2: an LE daemon reporting that #probeA#localhost joined g1
    head = bytes.fromhex("80110080") + G1 + bytes.fromhex("01000000 80000080 38000000")
    body = (
        bytes.fromhex("0100007f 9298126b 01000000 01000000 00000000 01000000") + PROBE_A
    )
    [frame] = FrameDecoder().feed(head + PROBE_A + body)
    assert frame.type == spread.REG_MEMB_MESS | spread.CAUSED_BY_JOIN
    assert frame.sender == "g1" and frame.groups == ("#probeA#localhost",)
    msg = spread.messages.from_frame(frame)
    assert isinstance(msg, spread.MembershipMessage)
    assert msg.group_id == spread.GroupId(0x7F000001, 0x6B129892, 1)
    assert repr(msg.group_id) == "<group_id 7F000001:6B129892:00000001>"
    assert (
        msg.extra == ("#probeA#localhost",)
        and msg.changed_member == "#probeA#localhost"
    )


def test_a_big_endian_data_message_is_decoded_with_endian_mismatch() -> None:
    # §6.1: AGREED|SELF_DISCARD from a big-endian client, forwarded by an LE daemon
    head = (
        bytes.fromhex("d0000080")
        + PROBE_A
        + bytes.fromhex("01000000 00000700 05000000")
    )
    [frame] = FrameDecoder().feed(head + G1 + b"hello")
    msg = spread.messages.from_frame(frame)
    assert msg == spread.RegularMessage(
        "#probeA#localhost", ("g1",), b"hello", 7, 1, 0x50
    )


def test_a_fully_big_endian_frame_decodes_like_its_little_endian_twin() -> None:
    le = codec.HEADER_LE.pack(0x80000090, PROBE_A, 1, 0x80FFFE80, 3) + G1 + b"abc"
    be = codec.HEADER_BE.pack(0x00000010, PROBE_A, 1, 0x00FFFE00, 3) + G1 + b"abc"
    [a], [b] = FrameDecoder().feed(le), FrameDecoder().feed(be)
    assert (a.type, a.sender, a.groups, a.mess_type, a.data) == (
        b.type,
        b.sender,
        b.groups,
        b.mess_type,
        b.data,
    )
    assert (a.endian_mismatch, b.endian_mismatch) == (0, 1)


def test_the_verified_self_leave_has_no_members_and_no_body() -> None:
    raw = bytes.fromhex("80020080") + G1 + bytes.fromhex("00000000 80000080 00000000")
    msg = spread.messages.from_frame(FrameDecoder().feed(raw)[0])
    assert isinstance(msg, spread.MembershipMessage)
    assert msg.is_self_leave and msg.reason == spread.CAUSED_BY_LEAVE
    assert (msg.members, msg.extra, msg.group_id, msg.changed_member) == (
        (),
        (),
        None,
        None,
    )


@pytest.mark.parametrize("chunk", [1, 2, 47, 48, 49, 79, 80, 1000])
def test_the_frame_decoder_reassembles_frames_split_anywhere(chunk: int) -> None:
    frames = [
        codec.encode_message(spread.AGREED_MESS, PROBE_A, [G1], i, bytes([i]) * i)
        for i in range(20)
    ]
    stream = b"".join(frames)
    dec = FrameDecoder(from_daemon=False)
    got = []
    for i in range(0, len(stream), chunk):
        got += dec.feed(stream[i : i + chunk])
    assert [f.mess_type for f in got] == list(range(20))
    assert [f.data for f in got] == [bytes([i]) * i for i in range(20)]
    assert dec.buffered == 0


@pytest.mark.parametrize("ng,dlen", [(-1, 0), (0, -5)])
def test_negative_counts_are_an_illegal_message(ng: int, dlen: int) -> None:
    with pytest.raises(spread.IllegalMessage):
        FrameDecoder().feed(
            codec.HEADER_LE.pack(0x80000002, PROBE_A, ng, 0x80000080, dlen)
        )


def test_the_change_body_is_56_bytes_and_round_trips() -> None:
    body = codec.encode_change_body(GroupIdValue(1, 2, 3), PROBE_A)
    assert len(body) == 56
    assert body == codec.encode_membership_body(GroupIdValue(1, 2, 3), [[PROBE_A]])
    decoded = codec.decode_membership_body(body, little=True)
    assert decoded == codec.MembershipBody(
        GroupIdValue(1, 2, 3), (("#probeA#localhost",),), 0
    )


def test_a_network_body_with_several_vs_sets_points_at_the_local_set() -> None:
    a, b, cc = (codec.pad_name(n) for n in ("#a#d1", "#b#d2", "#c#d2"))
    body = codec.encode_membership_body(
        GroupIdValue(9, 8, 7), [[a], [b, cc]], local_set=1
    )
    assert struct.unpack_from("<I", body, 16)[0] == 4 + 32  # offset from byte 20 (§7.2)
    decoded = codec.decode_membership_body(body, little=True)
    assert (
        decoded.vs_sets == (("#a#d1",), ("#b#d2", "#c#d2")) and decoded.local_set == 1
    )


def test_a_reject_carries_old_type_and_appends_the_sender_group() -> None:
    raw = codec.encode_reject(
        spread.CAUSED_BY_JOIN, False, PROBE_A, [G1], struct.pack("<I", 0x80000080), b""
    )
    assert raw[:4] == struct.pack("<I", spread.REJECT_MESS | 0x80000080)
    assert struct.unpack_from("<i", raw, 36)[0] == 2
    assert raw[48:52] == struct.pack("<I", spread.CAUSED_BY_JOIN)
    [frame] = FrameDecoder().feed(raw)
    assert frame.old_type == spread.CAUSED_BY_JOIN and frame.groups == (
        "g1",
        "#probeA#localhost",
    )
    with pytest.raises(spread.RejectedMessage) as info:
        spread.messages.from_frame(frame)
    assert info.value.service_type == spread.CAUSED_BY_JOIN | spread.REJECT_MESS


def test_a_reject_of_a_100_group_message_replaces_the_last_group() -> None:
    slots = [codec.pad_name(f"g{i}") for i in range(100)]
    raw = codec.encode_reject(
        spread.AGREED_MESS, True, PROBE_A, slots, b"\x80\x00\x00\x80", b"x"
    )
    frame = FrameDecoder().feed(raw)[0]
    assert len(frame.groups) == 100 and frame.groups[-1] == "#probeA#localhost"
    assert frame.type == spread.REJECT_MESS | spread.SELF_DISCARD


@pytest.mark.parametrize(
    "name,legal",
    [
        (b"g", True),
        (b"a" * 31, True),
        (b"", False),
        (b"a" * 32, False),
        (b"$~", True),
        (b"a#b", False),
        (b"a b", False),
        (b"\x7f", False),
    ],
)
def test_group_name_legality_follows_the_client_rule(name: bytes, legal: bool) -> None:
    assert codec.is_legal_name(name) is legal


@pytest.mark.parametrize(
    "slot,name",
    [
        (G1, b"g1"),
        (b"g1\0garbage".ljust(32, b"\0"), b"g1"),
        (b"x" * 32, b"x" * 31),
    ],
)
def test_a_slot_name_stops_at_the_first_nul_and_byte_31_is_forced_to_nul(
    slot: bytes, name: bytes
) -> None:
    assert codec.slot_name(slot) == name


@pytest.mark.parametrize(
    "name,parsed",
    [
        (b"#probeA#localhost", (b"probeA", b"localhost")),
        (b"probeA#localhost", None),
        (b"##localhost", None),
        (b"#a#", None),
        (b"#a#b#c", None),
        (b"#abcdefghijk#d", None),
    ],
)
def test_private_group_parsing(name: bytes, parsed: tuple[bytes, bytes] | None) -> None:
    assert codec.parse_private_group(name) == parsed


def test_every_section_1_constant_has_its_documented_value() -> None:
    assert (
        spread.SPREAD_VERSION,
        spread.DEFAULT_SPREAD_PORT,
        spread.MAX_GROUP_NAME,
    ) == (0x04040000, 4803, 32)
    assert (spread.MAX_PRIVATE_NAME, spread.MAX_PROC_NAME) == (10, 20)
    assert (spread.DEFAULT_BUFFER_SIZE, spread.DEFAULT_GROUPS_SIZE) == (10000, 10)
    assert (spread.REGULAR_MESS, spread.MEMBERSHIP_MESS, spread.REJECT_MESS) == (
        0x3F,
        0x3F00,
        0x400000,
    )
    assert (spread.ENDIAN_RESERVED, spread.DROP_RECV, spread.RESERVED) == (
        0x80000080,
        0x01000000,
        0x003FC000,
    )
    assert (spread.MESSAGE_TOO_LONG, spread.NET_ERROR_ON_SESSION, spread.SP_BUG) == (
        -17,
        -18,
        -19,
    )
    assert spread.is_self_leave(0x200) and not spread.is_self_leave(0x1200)
    assert not spread.is_regular_mess(spread.AGREED_MESS | spread.REJECT_MESS)


def test_recorded_bytes_decode_into_frames_and_an_incomplete_tail() -> None:
    one = codec.encode_message(spread.AGREED_MESS, PROBE_A, [G1], 3, b"abc")
    frames, tail = codec.decode_stream(one + one[:50], from_daemon=False)
    assert [f.data for f in frames] == [b"abc"] and tail == one[:50]
