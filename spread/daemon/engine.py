"""The daemon's sans-IO core: validates client frames and applies them in one global order (§4.3, §8)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from spread import constants as c
from spread.codec import (
    HEADER_BE,
    HEADER_LE,
    MARKER,
    U32_LE,
    UNMARK,
    canonical_slot,
    is_legal_name,
    slot_name,
)
from spread.daemon.router import Router
from spread.daemon.session import Session

log = logging.getLogger(__name__)

HDR = c.HEADER_SIZE
SERVICES = (
    c.UNRELIABLE_MESS,
    c.RELIABLE_MESS,
    c.FIFO_MESS,
    c.CAUSAL_MESS,
    c.AGREED_MESS,
    c.SAFE_MESS,
)
# §4.3 item 1, the stricter rule: one service bit [| SELF_DISCARD], or exactly one request
VALID_TYPES = frozenset(
    [s | d for s in SERVICES for d in (0, c.SELF_DISCARD)]
    + [c.JOIN_MESS, c.LEAVE_MESS, c.KILL_MESS]
)
HINT_ALLOWED = 0x80FFFF80  # §4.3 item 5
GIVE_AWAY = 4096  # frames at least this big may be queued in their input buffer
Congested = Callable[[Session, "Session | None"], None]


def _bswap32(v: int) -> int:
    return int.from_bytes(v.to_bytes(4, "little"), "big")


class Engine:
    """Owns the router, the per-loop dirty list and the sessions condemned by the last frame."""

    def __init__(
        self,
        router_factory: Callable[[Engine], Router],
        max_messages: int,
        max_bytes: int,
        on_congested: Congested,
    ) -> None:
        self.dirty: list[Session] = []
        self.doomed: list[tuple[Session, str]] = []
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.on_congested = on_congested
        self.router = router_factory(self)

    def deliver(
        self, target: Session, frame: bytes, sender: Session | None = None
    ) -> None:
        """Queue ``frame`` for ``target`` and enforce the queue limits (§6.2)."""
        target.outq.append(frame)
        target.outcount += 1
        target.outbytes += len(frame)
        if not target.dirty:
            target.dirty = True
            self.dirty.append(target)
        if target.outcount > self.max_messages or target.outbytes > self.max_bytes:
            self.on_congested(target, sender)

    def doom(self, s: Session, reason: str) -> None:
        """Condemn ``s``; the I/O shell kills it before the next frame is applied (§7.5)."""
        if not s.dead and all(d is not s for d, _ in self.doomed):
            self.doomed.append((s, reason))

    def process_input(self, s: Session) -> None:
        """Apply every complete frame in ``s.inbuf``; stop early on a kill, a doom or a pause."""
        buf = s.inbuf
        n = len(buf)
        off = 0
        s.need = 0
        with memoryview(buf) as mv:
            while n - off >= HDR:
                t_raw, sender, ng, hraw, dlen = HEADER_LE.unpack_from(buf, off)
                # §4.2: the marker bits decide the writer's byte order
                little = (t_raw & MARKER) == MARKER
                if not little:
                    t_raw, sender, ng, _h, dlen = HEADER_BE.unpack_from(buf, off)
                t = t_raw & UNMARK
                hint = hraw if (hraw & MARKER) == MARKER else _bswap32(hraw)
                problem = self._check_header(t, ng, hint, dlen)
                if problem:
                    self.doom(s, problem)
                    break
                flen = HDR + 32 * ng + dlen
                if n - off < flen:
                    s.need = flen
                    break
                # §4.3 items 2 and 3: the sender field must be this session's private group
                if sender != s.slot and canonical_slot(sender) != s.slot:
                    self.doom(
                        s,
                        f"header names {slot_name(sender)!r}, not its own private group",
                    )
                    break
                if t & c.REGULAR_MESS:
                    verbatim = little and sender == s.slot
                    self._route(s, mv, off, t, ng, flen, verbatim, hraw, dlen)
                elif not self._request(s, mv, off, t, ng, hraw, flen):
                    off += flen
                    break
                off += flen
                if self.doomed or s.paused:
                    break
        if off and s.inbuf is buf:
            del buf[:off]

    @staticmethod
    def _check_header(t: int, ng: int, hint: int, dlen: int) -> str:
        if t not in VALID_TYPES:
            return f"illegal type 0x{t:08x}"
        if not 0 <= ng <= c.MAX_GROUPS_PER_MESSAGE:
            return f"num_groups {ng} outside 0..100"
        if hint & ~HINT_ALLOWED & 0xFFFFFFFF:
            return f"hint 0x{hint:08x} has bits outside the marker and mess_type"
        if dlen < 0 or dlen + 32 * ng > c.DAEMON_MAX_BODY:  # §4.3 item 6, §9
            return f"message of {dlen} bytes to {ng} groups exceeds {c.DAEMON_MAX_BODY}"
        return ""

    def _route(
        self,
        s: Session,
        mv: memoryview,
        off: int,
        t: int,
        ng: int,
        flen: int,
        verbatim: bool,
        hraw: int,
        dlen: int,
    ) -> None:
        """Deliver a data message, one copy per target (§6.1, §6.2)."""
        targets = self.router.targets(mv[off + HDR : off + HDR + 32 * ng].tobytes(), ng)
        if not targets:
            return
        frame: bytes | bytearray
        if verbatim and off == 0 and flen == len(mv) and flen >= GIVE_AWAY:
            frame = s.inbuf  # the buffer holds just this frame: queue it without a copy
            s.inbuf = bytearray()
        elif verbatim:  # a little-endian client's frame is already the daemon's output
            frame = mv[off : off + flen].tobytes()
        else:
            head = HEADER_LE.pack(t | MARKER, s.slot, ng, hraw, dlen)
            frame = head + mv[off + HDR : off + flen].tobytes()
        discard = t & c.SELF_DISCARD
        dirty = self.dirty
        limit_m, limit_b = self.max_messages, self.max_bytes
        for tg in targets:
            if tg is s and discard:
                continue
            tg.outq.append(frame)
            tg.outcount += 1
            tg.outbytes += flen
            if not tg.dirty:
                tg.dirty = True
                dirty.append(tg)
            if tg.outcount > limit_m or tg.outbytes > limit_b:
                self.on_congested(tg, s)

    def _request(
        self,
        s: Session,
        mv: memoryview,
        off: int,
        t: int,
        ng: int,
        hraw: int,
        flen: int,
    ) -> bool:
        """JOIN, LEAVE or KILL (§5.2, §5.3); returns False when the session ends."""
        if t == c.KILL_MESS:
            self.doom(s, "disconnected (KILL)")
            return False
        if ng < 1:
            self.doom(s, "JOIN/LEAVE without a group")
            return False
        slot = mv[off + HDR : off + HDR + 32].tobytes()
        name = slot_name(slot)
        if not is_legal_name(name) or b"#" in name:  # stricter than the real daemon
            self.doom(s, f"JOIN/LEAVE of illegal group {name!r}")
            return False
        slot = canonical_slot(slot)
        if t == c.JOIN_MESS:
            data = mv[off + HDR + 32 * ng : off + flen].tobytes()
            self.router.join(s, slot, U32_LE.pack(hraw), data)
        else:
            self.router.leave(s, slot)
        return True
