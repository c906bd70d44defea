"""Sans-IO wire format: 48-byte headers, names, membership and reject bodies, frame decoding (§4, §7)."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from spread import constants as c
from spread.errors import IllegalMessage

MARKER = c.ENDIAN_RESERVED
UNMARK = ~MARKER & 0xFFFFFFFF
NAME_SIZE = c.MAX_GROUP_NAME
HEADER_LE = struct.Struct("<I32siIi")
HEADER_BE = struct.Struct(">I32siIi")
# the hint travels as 4 raw bytes: it keeps its writer's order (§4.2)
HEADER_RAW_HINT_LE = struct.Struct("<I32si4si")
HEADER_RAW_HINT_BE = struct.Struct(">I32si4si")
U32_LE = struct.Struct("<I")
U32_BE = struct.Struct(">I")
GID_LE = struct.Struct("<III")
MEMB_HEAD_LE = struct.Struct(
    "<IIIIII"
)  # gid(3), num_vs_sets, local offset, first set count
_ZERO_SLOT = bytes(NAME_SIZE)
# the most a membership frame may hold: members and body (§7.2), far above any real group
MAX_MEMBERSHIP_FRAME = 16 * 1024 * 1024
_ALLOWED_NAME_BYTES = frozenset(range(0x24, 0x7F))


class Header(NamedTuple):
    """A decoded header: markers cleared, integers in host values (§4.1)."""

    type: int
    sender: bytes
    num_groups: int
    hint: int
    data_len: int
    little: bool
    hint_little: bool


class GroupIdValue(NamedTuple):
    """The three integers of a group id (§7.2)."""

    proc_id: int
    time: int
    seq: int  # the per-group change counter, "index" in §7.2


class MembershipBody(NamedTuple):
    """A decoded regular-membership body (§7.2): vs-sets and the index of the recipient's set."""

    group_id: GroupIdValue
    vs_sets: tuple[tuple[str, ...], ...]
    local_set: int


class Frame(NamedTuple):
    """One complete message as read off the wire, names decoded as latin-1 (§4)."""

    type: int
    sender: str
    groups: tuple[str, ...]
    mess_type: int
    endian_mismatch: int
    data: bytes
    little: bool
    old_type: int | None = None


def marker_is_little(b0: int, b3: int) -> bool:
    """True when the writer was little-endian: the marker sets the top bit of bytes 0 and 3 (§4.2)."""
    return bool(b0 & 0x80) and bool(b3 & 0x80)


def decode_hint(raw: bytes) -> tuple[int, bool]:
    """The hint value without its marker and whether its writer was little-endian (§4.2)."""
    little = marker_is_little(raw[0], raw[3])
    value = int.from_bytes(raw, "little" if little else "big")
    return value & UNMARK, little


def mess_type_from_hint(hint: int) -> int:
    """The signed 16-bit mess_type carried in bits 8..23 of the hint (§4.1)."""
    v = (hint >> 8) & 0xFFFF
    return v - 0x10000 if v & 0x8000 else v


def hint_for(mess_type: int) -> int:
    """A little-endian writer's hint for mess_type, marker included (§5.1)."""
    return ((mess_type & 0xFFFF) << 8) | MARKER


def decode_header(buf: bytes | bytearray | memoryview, offset: int = 0) -> Header:
    """Decode the 48 header bytes at ``offset`` using the writer's markers (§4.2)."""
    little = marker_is_little(buf[offset], buf[offset + 3])
    st = HEADER_RAW_HINT_LE if little else HEADER_RAW_HINT_BE
    t, sender, ng, raw_hint, dlen = st.unpack_from(buf, offset)
    hint, hint_little = decode_hint(raw_hint)
    return Header(t & UNMARK, sender, ng, hint, dlen, little, hint_little)


def encode_header(
    type_: int, sender: bytes, num_groups: int, hint: int, data_len: int
) -> bytes:
    """A little-endian header with the marker on ``type``; ``hint`` is written as given (§4.1)."""
    return HEADER_LE.pack(type_ | MARKER, sender, num_groups, hint, data_len)


def to_bytes(name: str | bytes) -> bytes:
    """A name as bytes; str names are encoded as latin-1 (names are ASCII in practice)."""
    return name.encode("latin-1") if isinstance(name, str) else bytes(name)


def pad_name(name: str | bytes) -> bytes:
    """The 32-byte NUL-padded slot for a name of at most 31 bytes (§1.1)."""
    b = to_bytes(name)
    if len(b) >= NAME_SIZE:
        raise ValueError(f"name longer than {NAME_SIZE - 1} bytes: {b!r}")
    return b + _ZERO_SLOT[len(b) :]


def slot_name(slot: bytes | bytearray | memoryview) -> bytes:
    """The name in a slot: bytes before the first NUL, byte 31 forced to NUL (§4.3 item 2)."""
    b = bytes(slot[: NAME_SIZE - 1])
    end = b.find(0)
    return b if end < 0 else b[:end]


def canonical_slot(slot: bytes | bytearray | memoryview) -> bytes:
    """The slot re-padded with zeros after its name, so equal names compare equal."""
    name = slot_name(slot)
    return name + _ZERO_SLOT[len(name) :]


def unpad(slot: bytes | bytearray | memoryview) -> str:
    """The name in a slot as str."""
    return slot_name(slot).decode("latin-1")


def is_legal_name(name: bytes, max_len: int = NAME_SIZE - 1) -> bool:
    """1..max_len bytes, each in 0x24..0x7E: group and private names (§5.2, §3.1)."""
    return 0 < len(name) <= max_len and _ALLOWED_NAME_BYTES.issuperset(name)


def parse_private_group(name: bytes) -> tuple[bytes, bytes] | None:
    """(private name, daemon name) of ``#priv#proc``, or None when malformed (§4.3 item 2)."""
    parts = name.split(b"#")
    if len(parts) != 3 or parts[0]:
        return None
    priv, proc = parts[1], parts[2]
    if not is_legal_name(priv, c.MAX_PRIVATE_NAME) or not is_legal_name(
        proc, c.MAX_PROC_NAME - 1
    ):
        return None
    return priv, proc


def encode_message(
    service: int,
    sender: bytes,
    group_slots: Sequence[bytes],
    mess_type: int,
    data: bytes,
) -> bytes:
    """A client → daemon frame: header, group slots, payload (§5.1, §5.2, §5.3)."""
    head = HEADER_LE.pack(
        service | MARKER, sender, len(group_slots), hint_for(mess_type), len(data)
    )
    return b"".join((head, *group_slots, data))


def encode_membership_body(
    gid: GroupIdValue, vs_sets: Sequence[Sequence[bytes]], local_set: int = 0
) -> bytes:
    """A regular-membership body with slots already padded (§7.2); offset counts from byte 20."""
    chunks: list[bytes] = []
    offsets: list[int] = []
    pos = 0
    for members in vs_sets:
        offsets.append(pos)
        chunks.append(U32_LE.pack(len(members)))
        chunks.extend(members)
        pos += 4 + NAME_SIZE * len(members)
    local = offsets[local_set] if vs_sets else 0
    head = GID_LE.pack(*gid) + U32_LE.pack(len(vs_sets)) + U32_LE.pack(local)
    return head + b"".join(chunks)


def encode_change_body(gid: GroupIdValue, changed: bytes) -> bytes:
    """The 56-byte body of a join, leave or disconnect: one vs-set holding the changed member (§7.2)."""
    return MEMB_HEAD_LE.pack(gid[0], gid[1], gid[2], 1, 0, 1) + changed


def decode_membership_body(body: bytes, little: bool) -> MembershipBody:
    """Decode a regular-membership body in the header's byte order (§7.2, §7.3)."""
    u32 = U32_LE if little else U32_BE
    if len(body) < 20:
        raise IllegalMessage(
            None, f"membership body of {len(body)} bytes is shorter than 20"
        )
    gid = GroupIdValue(*(u32.unpack_from(body, i)[0] for i in (0, 4, 8)))
    (num_sets,) = u32.unpack_from(body, 12)
    (local,) = u32.unpack_from(body, 16)
    sets: list[tuple[str, ...]] = []
    pos, local_set = 20, 0
    for _ in range(num_sets):
        if pos + 4 > len(body):
            raise IllegalMessage(None, "membership body ends inside a vs-set")
        if pos - 20 == local:
            local_set = len(sets)
        (count,) = u32.unpack_from(body, pos)
        end = pos + 4 + NAME_SIZE * count
        if end > len(body):
            raise IllegalMessage(None, "membership body ends inside a vs-set")
        sets.append(
            tuple(
                unpad(body[i : i + NAME_SIZE]) for i in range(pos + 4, end, NAME_SIZE)
            )
        )
        pos = end
    return MembershipBody(gid, tuple(sets), local_set)


def encode_membership(
    type_: int, group_slot: bytes, member_slots: Sequence[bytes], body: bytes
) -> bytes:
    """A daemon → client membership frame, little-endian, hint = marker only (§7.1)."""
    head = HEADER_LE.pack(
        type_ | MARKER, group_slot, len(member_slots), MARKER, len(body)
    )
    return b"".join((head, *member_slots, body))


def encode_reject(
    old_type: int,
    self_discard: bool,
    sender: bytes,
    group_slots: Sequence[bytes],
    raw_hint: bytes,
    data: bytes,
) -> bytes:
    """A daemon → client reject (§7.7): groups get the sender's private group appended."""
    slots = list(group_slots)
    if len(slots) >= c.MAX_GROUPS_PER_MESSAGE:
        slots[-1] = sender
    else:
        slots.append(sender)
    t = c.REJECT_MESS | (c.SELF_DISCARD if self_discard else 0)
    head = HEADER_RAW_HINT_LE.pack(t | MARKER, sender, len(slots), raw_hint, len(data))
    return b"".join((head, U32_LE.pack(old_type), *slots, data))


def join_slots(names: Iterable[str | bytes]) -> bytes:
    """Concatenated 32-byte slots for names."""
    return b"".join(pad_name(n) for n in names)


def oversized(h: Header) -> str:
    """Why a header announces more than any daemon sends, or "" (§1, §9).

    A data or reject frame carries at most 100 groups and 144,000 bytes; a membership
    frame lists members, so it is bounded in bytes only. Refusing such a header at once
    keeps a hostile peer from making the decoder wait for, and buffer, gigabytes.
    """
    size = NAME_SIZE * h.num_groups + h.data_len
    if c.is_membership_mess(h.type):
        if size > MAX_MEMBERSHIP_FRAME:
            return (
                f"membership frame of {size} bytes exceeds {MAX_MEMBERSHIP_FRAME}"
            )
        return ""
    if h.num_groups > c.MAX_GROUPS_PER_MESSAGE:
        return f"num_groups {h.num_groups} exceeds {c.MAX_GROUPS_PER_MESSAGE}"
    if h.data_len > c.MAX_MESSAGE_BODY_LEN:
        return f"data_len {h.data_len} exceeds {c.MAX_MESSAGE_BODY_LEN}"
    return ""


class FrameDecoder:
    """Incremental decoder: feed stream bytes, get complete frames (§4.1).

    ``from_daemon`` selects the daemon → client direction, where REJECT_MESS frames carry a
    4-byte old_type before the groups (§7.7). The decoder never blocks and keeps partial frames.
    A header with negative or oversized counts raises IllegalMessage (after the frames before
    it are returned), and so does every later ``feed``: the stream cannot be resynchronised.
    """

    def __init__(self, from_daemon: bool = True, host_little: bool = True) -> None:
        self._buf = bytearray()
        self._from_daemon = from_daemon
        self._host_little = host_little
        self._names: dict[bytes, str] = {}
        self.error: IllegalMessage | None = None  # a malformed header: nothing after it is decoded

    def _name(self, slot: bytes | bytearray) -> str:
        """``unpad`` with a small cache: the same senders and groups recur on a stream."""
        key = bytes(slot)
        name = self._names.get(key)
        if name is None:
            if len(self._names) >= 4096:
                self._names.clear()
            name = self._names[key] = unpad(key)
        return name

    @property
    def buffered(self) -> int:
        """Bytes held that do not yet form a complete frame."""
        return len(self._buf)

    @property
    def tail(self) -> bytes:
        """The bytes of the incomplete frame held back."""
        return bytes(self._buf)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Append ``data`` and return every frame now complete, in order."""
        if self.error is not None:
            raise self.error
        buf = self._buf
        buf += data
        frames: list[Frame] = []
        off, n = 0, len(buf)
        while n - off >= c.HEADER_SIZE:
            h = decode_header(buf, off)
            problem = (
                f"negative num_groups {h.num_groups} or data_len {h.data_len}"
                if h.num_groups < 0 or h.data_len < 0
                else oversized(h)
            )
            if problem:
                self.error = IllegalMessage(None, problem)
                if not frames:
                    raise self.error
                break  # the frames before it are good; the next feed raises
            extra = 4 if self._from_daemon and h.type & c.REJECT_MESS else 0
            gpos = off + c.HEADER_SIZE + extra
            dpos = gpos + NAME_SIZE * h.num_groups
            end = dpos + h.data_len
            if end > n:
                break
            frames.append(self._frame(h, buf, off, gpos, dpos, end))
            off = end
        if off:
            del buf[:off]
        return frames

    def _frame(
        self, h: Header, buf: bytearray, off: int, gpos: int, dpos: int, end: int
    ) -> Frame:
        old_type = None
        if gpos != off + c.HEADER_SIZE:
            (old_type,) = (U32_LE if h.little else U32_BE).unpack_from(
                buf, off + c.HEADER_SIZE
            )
        name = self._name
        groups = tuple(
            name(buf[i : i + NAME_SIZE]) for i in range(gpos, dpos, NAME_SIZE)
        )
        mismatch = (
            int(h.hint_little != self._host_little)
            if not c.is_membership_mess(h.type)
            else 0
        )
        return Frame(
            h.type,
            self._name(h.sender),
            groups,
            mess_type_from_hint(h.hint),
            mismatch,
            bytes(buf[dpos:end]),
            h.little,
            old_type,
        )


def decode_stream(data: bytes, from_daemon: bool = True) -> tuple[list[Frame], bytes]:
    """Every complete frame in recorded bytes, and the incomplete tail (for fixtures, §4)."""
    decoder = FrameDecoder(from_daemon=from_daemon)
    frames = decoder.feed(data)
    return frames, decoder.tail
