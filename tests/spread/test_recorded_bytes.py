"""Bytes recorded from a real Spread 4.4.0 daemon (tests/spread/data/README.md) against the project.

* every recorded daemon → client frame decodes with ``spread.codec`` to the recorded fields, and
  turns into the right SpreadModule object;
* the project's encoders reproduce the client → daemon bytes exactly (raw client and C library);
* the sans-IO handshakes reproduce / accept the recorded handshake bytes;
* the daemon-side encoders reproduce the real membership frames; and
* replaying the recorded client side against the embedded daemon yields the real daemon's
  output byte for byte (group-id time and the generated private name normalised).
"""

from __future__ import annotations

import json
import re
import socket
import struct
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import spread
from spread import codec
from spread import constants as c
from spread.codec import FrameDecoder, GroupIdValue
from spread.handshake import (
    NULL_AUTH,
    ClientHandshake,
    DaemonHandshake,
    Stage,
    connect_message,
)
from spread.messages import from_frame

DATA = Path(__file__).with_name("data") / "real_4_4_0_loopback.jsonl"
C2D, D2C = "client->daemon", "daemon->client"
GENERATED = re.compile(r"#r\d{1,4}-\d{1,4}#localhost")


def pattern(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


@cache
def rows() -> tuple[dict[str, Any], ...]:
    out = []
    for line in DATA.read_text().splitlines():
        row = json.loads(line)
        raw = bytes.fromhex(row["hex"])
        if row.get("payload_pattern") == "mod251":
            raw += pattern(row["payload_len"])
        row["raw"] = raw
        out.append(row)
    return tuple(out)


def select(
    kind: str | None = None, direction: str | None = None
) -> list[dict[str, Any]]:
    return [
        r
        for r in rows()
        if (kind is None or r["kind"] == kind)
        and (direction is None or r["direction"] == direction)
    ]


def by_name(name: str) -> dict[str, Any]:
    (row,) = [r for r in rows() if r["name"] == name]
    return row


def ids(rs: list[dict[str, Any]]) -> list[str]:
    return [r["name"] for r in rs]


D2C_FRAMES = select("frame", D2C)
C2D_FRAMES = select("frame", C2D)


def test_the_fixture_covers_what_the_interop_checklist_asks_for() -> None:
    types = {r["expect"]["type"] for r in D2C_FRAMES}
    for t in (0x1100, 0x1200, 0x1400, 0x0200, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x50):
        assert t in types, hex(t)
    assert {r["expect"]["code"] for r in select("reject_byte")} == {-5, -6, -7, -9}
    assert any(
        not r["expect"]["little"] for r in C2D_FRAMES
    )  # the big-endian client frame
    assert any(r.get("payload_len") == 143_119 for r in D2C_FRAMES)
    assert any(
        len(r["expect"]["groups"]) == 2
        for r in D2C_FRAMES
        if r["expect"]["type"] & 0x3F
    )


# --------------------------------------------------------------------------- frame decoding


@pytest.mark.parametrize(
    "row", D2C_FRAMES + C2D_FRAMES, ids=ids(D2C_FRAMES + C2D_FRAMES)
)
def test_every_recorded_frame_decodes_to_the_recorded_fields(
    row: dict[str, Any],
) -> None:
    e = row["expect"]
    dec = FrameDecoder(from_daemon=row["direction"] == D2C)
    frames = dec.feed(row["raw"])
    assert len(frames) == 1 and dec.buffered == 0
    f = frames[0]
    assert f.type == e["type"]
    assert f.sender == e["sender"]
    assert f.groups == tuple(e["groups"])
    assert f.mess_type == e["mess_type"]
    assert f.little is e["little"]
    assert len(f.data) == e["data_len"]
    if "data_hex" in e:
        assert f.data.hex() == e["data_hex"]
    if row["direction"] == D2C:
        assert (
            e["type_marker"] and f.little
        )  # the x86 daemon always writes LE with the marker
        if c.is_membership_mess(f.type):
            assert f.endian_mismatch == 0
        else:  # §4.2: the hint keeps the original sender's order
            assert f.endian_mismatch == int(not e["hint_little"])


def test_a_frame_split_at_every_byte_decodes_the_same() -> None:
    row = next(
        r
        for r in D2C_FRAMES
        if r["expect"]["type"] == 0x1100 and r["expect"]["num_groups"] == 3
    )
    whole = FrameDecoder().feed(row["raw"])
    dec = FrameDecoder()
    got = []
    for i in range(len(row["raw"])):
        got += dec.feed(row["raw"][i : i + 1])
    assert got == whole


def test_the_whole_daemon_stream_of_one_session_decodes_in_one_feed() -> None:
    mine = [r for r in D2C_FRAMES if r["client"] == "probeA"]
    frames = FrameDecoder().feed(b"".join(r["raw"] for r in mine))
    assert [f.type for f in frames] == [r["expect"]["type"] for r in mine]


MEMBERSHIPS = [r for r in D2C_FRAMES if r["expect"]["type"] & 0x1000]


@pytest.mark.parametrize("row", MEMBERSHIPS, ids=ids(MEMBERSHIPS))
def test_regular_membership_bodies_decode_to_the_recorded_vs_sets(
    row: dict[str, Any],
) -> None:
    e, m = row["expect"], row["expect"]["membership"]
    (f,) = FrameDecoder().feed(row["raw"])
    body = codec.decode_membership_body(f.data, f.little)
    assert list(body.group_id) == m["group_id"]
    assert m["group_id"][0] == 0x7F000001  # 127.0.0.1
    assert [list(s) for s in body.vs_sets] == m["vs_sets"]
    assert body.local_set == 0 and m["local_offset"] == 0 and m["num_vs_sets"] == 1
    assert e["data_len"] == 56  # §7.2
    msg = from_frame(f)
    assert isinstance(msg, spread.MembershipMessage)
    assert msg.group == e["sender"]
    assert msg.members == tuple(e["groups"])
    assert msg.members == tuple(
        sorted(msg.members)
    )  # §7.2: sorted by name on one daemon
    assert msg.changed_member == m["vs_sets"][0][0]
    assert msg.extra == (msg.changed_member,)
    assert msg.reason == e["type"] & 0xF00
    assert msg.msg_subtype == c.REG_MEMB_MESS
    assert msg.group_id is not None and msg.group_id.index == m["group_id"][2]


def test_the_group_index_sequence_matches_the_real_daemon() -> None:
    seen = [
        (r["expect"]["sender"], r["expect"]["membership"]["group_id"][2])
        for r in MEMBERSHIPS
        if r["client"] == "probeA"
    ]
    assert seen == [("g1", i) for i in range(1, 10)]


def test_self_leave_is_type_0x200_with_the_group_as_sender_and_nothing_else() -> None:
    leaves = [r for r in D2C_FRAMES if r["expect"]["type"] == c.CAUSED_BY_LEAVE]
    assert {r["expect"]["sender"] for r in leaves} == {"g1", "g2"}
    for r in leaves:
        assert r["raw"][:4] == bytes.fromhex("80020080")
        assert r["raw"][36:48] == bytes.fromhex("00000000 80000080 00000000")
        msg = from_frame(FrameDecoder().feed(r["raw"])[0])
        assert isinstance(msg, spread.MembershipMessage) and msg.is_self_leave
        assert (
            msg.reason == c.CAUSED_BY_LEAVE
            and msg.members == ()
            and msg.group_id is None
        )


def test_data_messages_become_regular_messages_with_signed_mess_types() -> None:
    got = {}
    for r in D2C_FRAMES:
        if r["client"] != "probeN" or not r["expect"]["type"] & 0x3F:
            continue
        msg = from_frame(FrameDecoder().feed(r["raw"])[0])
        assert isinstance(msg, spread.RegularMessage)
        got[msg.msg_type] = (msg.sender, msg.groups, msg.endian, msg.message[:16])
    assert got[-2] == ("#probeA#localhost", ("g1",), 0, b"selfdiscard")
    assert got[-32768][3] == b"min" and got[32767][3] == b"max"
    assert got[7] == ("#probeA#localhost", ("g1",), 1, b"hello")  # big-endian sender
    assert got[9][1] == ("g1", "g2")
    assert got[10][1] == ("#probeN#localhost",)
    assert got[11][3] == pattern(16)


def test_the_big_endian_client_frame_reaches_others_with_its_hint_untouched() -> None:
    sent = next(r for r in C2D_FRAMES if not r["expect"]["little"])
    got = next(
        r
        for r in D2C_FRAMES
        if r["client"] == "probeB" and r["expect"]["mess_type"] == 7
    )
    assert (
        sent["raw"][:4] == b"\x00\x00\x00\x50" and got["raw"][:4] == b"\xd0\x00\x00\x80"
    )
    assert sent["raw"][40:44] == got["raw"][40:44] == b"\x00\x00\x07\x00"
    assert codec.decode_header(sent["raw"]).type == 0x50


def test_self_discard_keeps_the_sender_out() -> None:
    a = [
        r["expect"]["mess_type"]
        for r in D2C_FRAMES
        if r["client"] == "probeA" and r["expect"]["type"] & 0x3F
    ]
    assert (
        -2 not in a and 7 not in a and 10 not in a
    )  # SELF_DISCARD twice, and a private message to N
    assert 1 in a and 9 in a


# --------------------------------------------------------------------------- client → daemon encoding


def _encode_like(row: dict[str, Any]) -> bytes:
    e = row["expect"]
    slots = [codec.pad_name(g) for g in e["groups"]]
    data = row["raw"][48 + 32 * e["num_groups"] :]
    return codec.encode_message(
        e["type"], codec.pad_name(e["sender"]), slots, e["mess_type"], data
    )


LE_C2D = [r for r in C2D_FRAMES if r["expect"]["little"]]


@pytest.mark.parametrize("row", LE_C2D, ids=ids(LE_C2D))
def test_the_encoder_reproduces_recorded_client_frames(row: dict[str, Any]) -> None:
    """Includes frames written by the real C library (spuser): join, SAFE multigroup, leave, kill."""
    assert _encode_like(row) == row["raw"]


def test_the_mailbox_writes_what_the_c_library_writes() -> None:
    """A Mailbox on a socketpair: its join / multigroup / leave bytes equal spuser's."""
    ours, theirs = socket.socketpair()
    try:
        box = spread.Mailbox(ours, "#spu1#localhost", c.CLIENT_SAFE_MAX_BODY, b"")
        box.join("g1")
        box.multigroup_multicast(spread.SAFE_MESS, ("g1", "g3"), b"from spuser\n", 1)
        box.leave("g1")
        want = b"".join(r["raw"] for r in C2D_FRAMES if r["client"] == "spu1")[
            : -(48 + 32)
        ]  # minus KILL
        theirs.settimeout(5)
        got = b""
        while len(got) < len(want):
            got += theirs.recv(65536)
        assert got == want
    finally:
        theirs.close()
        ours.close()


CONNECTS = [r for r in select("connect", C2D) if r["raw"][:3] == b"\x04\x04\x00"]


@pytest.mark.parametrize("row", CONNECTS, ids=ids(CONNECTS))
def test_connect_messages_match(row: dict[str, Any]) -> None:
    e = row["expect"]
    assert (
        connect_message(e["name"], bool(e["flags"] & 1), e["flags"] // 16) == row["raw"]
    )


def test_the_null_auth_choice_matches() -> None:
    choices = {
        r["raw"] for r in select("auth_choice") if r["expect"]["slots"][0] == "NULL"
    }
    assert choices == {NULL_AUTH}


# --------------------------------------------------------------------------- handshakes


def _sessions() -> dict[tuple[str, str], list[dict[str, Any]]]:
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows():
        out.setdefault((r["scenario"], r["client"]), []).append(r)
    return out


SESSIONS = _sessions()
V44 = [k for k, rs in SESSIONS.items() if rs[0]["raw"][:3] == b"\x04\x04\x00"]


@pytest.mark.parametrize("key", V44, ids=[".".join(k) for k in V44])
def test_the_client_handshake_accepts_the_recorded_daemon_bytes(
    key: tuple[str, str],
) -> None:
    rs = SESSIONS[key]
    replies = [
        r
        for r in rs
        if r["direction"] == D2C and r["kind"] in ("auth_list", "accept", "reject_byte")
    ]
    hs = ClientHandshake()
    stream = b"".join(r["raw"] for r in replies)
    reject = next((r for r in replies if r["kind"] == "reject_byte"), None)
    if reject is not None:
        with pytest.raises(spread.RejectedSession) as info:
            for i in range(
                len(stream)
            ):  # byte by byte: the real daemon sends each field separately
                hs.receive_data(stream[i : i + 1])
        assert info.value.code == reject["expect"]["code"]
        return
    sent = b""
    for i in range(len(stream)):
        sent += hs.receive_data(stream[i : i + 1])
    assert hs.done and hs.private_group == replies[-1]["expect"]["private_group"]
    assert hs.daemon_version == (4, 4, 0)
    assert sent == NULL_AUTH


@pytest.mark.parametrize("key", list(SESSIONS), ids=[".".join(k) for k in SESSIONS])
def test_the_daemon_handshake_answers_like_the_real_daemon(
    key: tuple[str, str],
) -> None:
    rs = [
        r
        for r in SESSIONS[key]
        if r["kind"] in ("connect", "auth_choice", "auth_list", "accept", "reject_byte")
    ]
    taken = {"probeA"} if key[0] == "rej_duplicate" else set()

    def reserve(name: str) -> bool:
        if name in taken:
            return False
        taken.add(name)
        return True

    hs = DaemonHandshake("localhost", reserve, fd=13)
    sent, closed = b"", False
    for r in rs:
        if r["direction"] == C2D:
            step = hs.receive_data(r["raw"])
            sent += step.send
            closed = closed or step.close
    want = b"".join(r["raw"] for r in rs if r["direction"] == D2C)
    if key[1] == "empty":  # the generated name is random: compare its shape
        assert sent[:10] == want[:10] and GENERATED.fullmatch(sent[11:].decode())
        assert sent[10] == len(sent) - 11
    else:
        assert sent == want
    assert closed == any(r["kind"] == "reject_byte" for r in rs)
    if not closed:
        assert hs.stage is Stage.ACCEPTED


# --------------------------------------------------------------------------- daemon-side encoders


@pytest.mark.parametrize("row", MEMBERSHIPS, ids=ids(MEMBERSHIPS))
def test_the_daemon_encoder_reproduces_real_membership_frames(
    row: dict[str, Any],
) -> None:
    e, m = row["expect"], row["expect"]["membership"]
    body = codec.encode_change_body(
        GroupIdValue(*m["group_id"]), codec.pad_name(m["vs_sets"][0][0])
    )
    frame = codec.encode_membership(
        e["type"],
        codec.pad_name(e["sender"]),
        [codec.pad_name(g) for g in e["groups"]],
        body,
    )
    assert frame == row["raw"]


def test_the_daemon_encoder_reproduces_a_real_self_leave() -> None:
    row = next(r for r in D2C_FRAMES if r["expect"]["type"] == c.CAUSED_BY_LEAVE)
    assert (
        codec.encode_membership(
            c.CAUSED_BY_LEAVE, codec.pad_name(row["expect"]["sender"]), [], b""
        )
        == row["raw"]
    )


# --------------------------------------------------------------------------- replay against the embedded daemon


def _normalise(raw: bytes, start_time: int | None) -> bytes:
    """Set a regular membership's group-id time to ``start_time`` (the one run-dependent field)."""
    if (
        len(raw) < 48 or not raw[1] & 0x10 or raw[2] & 0x40
    ):  # not REG_MEMB_MESS, or a reject
        return raw
    ng = struct.unpack_from("<i", raw, 36)[0]
    off = 48 + 32 * ng + 4
    return (
        raw[:off] + struct.pack("<I", start_time or 0) + raw[off + 4 :]
        if start_time is not None
        else raw
    )


def _replay(port: int, start_time: int) -> Iterator[str]:
    socks: dict[tuple[str, str], socket.socket] = {}
    generated: dict[str, str] = {}
    try:
        for r in rows():
            key = (r["scenario"], r["client"])
            if r["direction"] == C2D:
                if r["kind"] == "connect":
                    s = socket.create_connection(("127.0.0.1", port), timeout=10)
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    socks[key] = s
                if r["kind"] == "eof":
                    socks[key].close()
                    continue
                raw = r["raw"]
                for (
                    real,
                    ours,
                ) in generated.items():  # the daemon-chosen name appears in headers
                    raw = raw.replace(codec.pad_name(real), codec.pad_name(ours))
                socks[key].sendall(raw)
                continue
            s = socks[key]
            if r["kind"] == "eof":
                if s.fileno() < 0:  # the client side had already closed
                    continue
                try:
                    extra = s.recv(65536)
                except ConnectionResetError:
                    extra = b""
                if extra:
                    yield f"{r['name']}: expected EOF, got {extra[:64].hex()}"
                continue
            want = r["raw"]
            got = b""
            size = len(want)
            try:
                while len(got) < size:
                    chunk = s.recv(size - len(got))
                    if not chunk:
                        break
                    got += chunk
                    if (
                        r["kind"] == "accept"
                        and r["client"] == "empty"
                        and len(got) >= 5
                    ):
                        size = (
                            5 + got[4]
                        )  # the generated name's length is the daemon's choice
            except (TimeoutError, ConnectionResetError) as exc:
                yield f"{r['name']}: {exc!r} after {len(got)} of {len(want)} bytes ({r['note']})"
                return
            if r["kind"] == "accept" and r["client"] == "empty":
                real_name = GENERATED.search(want.decode("latin-1"))
                assert real_name is not None
                generated[real_name.group()] = got[5:].decode("latin-1")
                if not (
                    got[:4] == want[:4]
                    and GENERATED.fullmatch(got[5:].decode("latin-1"))
                ):
                    yield f"{r['name']}: accept {got.hex()} vs {want.hex()}"
                continue
            if _normalise(got, start_time) != _normalise(want, start_time):
                yield (
                    f"{r['name']} ({r['note']}):\n  real     {want[:160].hex()}\n"
                    f"  embedded {got[:160].hex()}"
                )
                if len(got) < len(want):
                    return
    finally:
        for s in socks.values():
            s.close()


def test_the_embedded_daemon_replays_the_real_daemon_byte_for_byte(daemon: Any) -> None:
    """Replay every recorded client byte, in the recorded order, against the embedded daemon."""
    problems = list(_replay(daemon.port, daemon.start_time))
    assert not problems, "\n".join(problems)
