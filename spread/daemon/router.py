"""Groups, routing table and membership notifications of a single daemon (§6.2, §7.2, §7.5, §7.7)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from spread import constants as c
from spread.codec import (
    GroupIdValue,
    canonical_slot,
    encode_change_body,
    encode_membership,
    encode_reject,
)
from spread.daemon.session import Session

Deliver = Callable[[Session, bytes], None]
_JOIN = c.REG_MEMB_MESS | c.CAUSED_BY_JOIN
_LEAVE = c.REG_MEMB_MESS | c.CAUSED_BY_LEAVE
_DISCONNECT = c.REG_MEMB_MESS | c.CAUSED_BY_DISCONNECT
_NOBODY: tuple[Session, ...] = ()


class Group:
    """A named group: members in join order (used for delivery) and its change counter (§7.2)."""

    __slots__ = ("index", "members", "slot")

    def __init__(self, slot: bytes) -> None:
        self.slot = slot
        self.members: tuple[Session, ...] = ()
        self.index = 0


class Router:
    """Applies JOIN/LEAVE/disconnect and finds the targets of a data message.

    ``dest`` maps a 32-byte slot to the sessions it reaches: a group's members or the owner
    of a private group (group names never contain '#', so the two never collide).
    """

    def __init__(
        self, proc_id: int, start_time: int, max_members: int, deliver: Deliver
    ) -> None:
        self.proc_id = proc_id
        self.start_time = start_time
        self.max_members = max_members
        self.deliver = deliver
        self.groups: dict[bytes, Group] = {}
        self.dest: dict[bytes, tuple[Session, ...]] = {}

    def add_session(self, s: Session) -> None:
        """Make the session's private group reachable (§6.2)."""
        self.dest[s.slot] = s.targets

    def targets(self, area: bytes, num_groups: int) -> Sequence[Session]:
        """Union of the sessions reached by the group slots in ``area``, each once (§6.2)."""
        dest = self.dest
        if num_groups == 1:
            found = dest.get(area)
            return (
                found if found is not None else dest.get(canonical_slot(area), _NOBODY)
            )
        union: dict[Session, None] = {}
        for i in range(0, 32 * num_groups, 32):
            slot = area[i : i + 32]
            found = dest.get(slot)
            if found is None:
                found = dest.get(canonical_slot(slot), _NOBODY)
            union.update(dict.fromkeys(found))
        return tuple(union)

    def gid(self, g: Group) -> GroupIdValue:
        """(daemon IPv4, start time, index) (§7.2)."""
        return GroupIdValue(self.proc_id, self.start_time, g.index)

    def join(self, s: Session, slot: bytes, raw_hint: bytes, data: bytes) -> None:
        """JOIN (§7.5); beyond ``max_members`` the joiner gets a reject (§7.7)."""
        g = self.groups.get(slot)
        if g is not None and s in g.members:
            return
        if g is not None and len(g.members) >= self.max_members:
            self.deliver(
                s,
                encode_reject(c.CAUSED_BY_JOIN, False, s.slot, [slot], raw_hint, data),
            )
            return
        if g is None:
            g = self.groups[slot] = Group(slot)
        g.members += (s,)
        g.index += 1
        self.dest[slot] = g.members
        s.groups.add(slot)
        self._notify(g, _JOIN, s)

    def leave(self, s: Session, slot: bytes) -> None:
        """LEAVE (§7.5): self-leave to the leaver, then LEAVE to the rest."""
        g = self.groups.get(slot)
        if g is None or s not in g.members:
            return
        if s.membership:
            self.deliver(s, encode_membership(c.CAUSED_BY_LEAVE, slot, (), b""))
        self._remove(g, s, _LEAVE)

    def remove_session(self, s: Session) -> None:
        """Disconnect (§7.5): leave every group in name order with CAUSED_BY_DISCONNECT."""
        self.dest.pop(s.slot, None)
        for slot in sorted(s.groups):
            self._remove(self.groups[slot], s, _DISCONNECT)

    def _remove(self, g: Group, s: Session, kind: int) -> None:
        g.members = tuple(m for m in g.members if m is not s)
        s.groups.discard(g.slot)
        if (
            not g.members
        ):  # an empty group is deleted; re-creating it restarts at 1 (§7.2)
            del self.groups[g.slot]
            del self.dest[g.slot]
            return
        g.index += 1
        self.dest[g.slot] = g.members
        self._notify(g, kind, s)

    def _notify(self, g: Group, kind: int, changed: Session) -> None:
        """One notification to every membership session of ``g``; members sorted by name (§7.2)."""
        listeners = [m for m in g.members if m.membership]
        if not listeners:
            return
        members = sorted(m.slot for m in g.members)
        frame = encode_membership(
            kind, g.slot, members, encode_change_body(self.gid(g), changed.slot)
        )
        for m in listeners:
            self.deliver(m, frame)
