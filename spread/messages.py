"""Received messages as SpreadModule shapes them (§11): RegularMessage and MembershipMessage."""

from __future__ import annotations

from dataclasses import dataclass

from spread import constants as c
from spread.codec import Frame, GroupIdValue, decode_membership_body
from spread.errors import IllegalMessage, RejectedMessage


@dataclass(frozen=True, slots=True)
class GroupId:
    """An opaque group id (§7.2); compare with == and != only."""

    proc_id: int
    time: int
    index: int

    def __repr__(self) -> str:
        return f"<group_id {self.proc_id:08X}:{self.time:08X}:{self.index:08X}>"


@dataclass(frozen=True, slots=True)
class RegularMessage:
    """A data message: the sender's private group, destination groups, payload (§11)."""

    sender: str
    groups: tuple[str, ...]
    message: bytes
    msg_type: int
    endian: int
    service_type: int = c.RELIABLE_MESS


@dataclass(frozen=True, slots=True)
class MembershipMessage:
    """A membership notification (§7.1, §11); ``group_id`` is None for transitional and self-leave."""

    reason: int
    group: str
    group_id: GroupId | None
    members: tuple[str, ...]
    extra: tuple[str, ...]
    changed_member: str | None
    msg_subtype: int
    service_type: int

    @property
    def is_self_leave(self) -> bool:
        """True for the notification a leaver receives about itself (§7.5)."""
        return c.is_self_leave(self.service_type)


Message = RegularMessage | MembershipMessage
RegularMsgType = RegularMessage
MembershipMsgType = MembershipMessage


def from_frame(frame: Frame) -> Message:
    """Turn a decoded frame into the SpreadModule object; rejects raise (§7.7, §11)."""
    t = frame.type
    if c.is_reject_mess(t):
        raise RejectedMessage(
            (frame.old_type or 0) | c.REJECT_MESS,
            frame.groups[0] if frame.groups else "",
        )
    if c.is_regular_mess(t):
        return RegularMessage(
            frame.sender,
            frame.groups,
            frame.data,
            frame.mess_type,
            frame.endian_mismatch,
            t,
        )
    if c.is_membership_mess(t):
        return _membership(frame)
    raise IllegalMessage(None, f"unexpected / unknown service type 0x{t:08x}")


def _membership(frame: Frame) -> MembershipMessage:
    t = frame.type
    reason = t & c.CAUSES
    subtype = t & (c.TRANSITION_MESS | c.REG_MEMB_MESS)
    if (
        not t & c.REG_MEMB_MESS
    ):  # transitional or self-leave: no members, no group id (§11)
        return MembershipMessage(reason, frame.sender, None, (), (), None, subtype, t)
    body = decode_membership_body(frame.data, frame.little)
    gid: GroupIdValue = body.group_id
    extra = body.vs_sets[body.local_set] if body.vs_sets else ()
    changed = None
    if (
        t & (c.CAUSED_BY_JOIN | c.CAUSED_BY_LEAVE | c.CAUSED_BY_DISCONNECT)
        and body.vs_sets
    ):
        changed = body.vs_sets[0][0] if body.vs_sets[0] else None
    return MembershipMessage(
        reason, frame.sender, GroupId(*gid), frame.groups, extra, changed, subtype, t
    )
