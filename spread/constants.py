"""Every constant of the Spread 4.4 client–daemon protocol (§1) and its type predicates."""

from typing import Final

__all__ = [
    "ACCEPT_SESSION",
    "AGREED_MESS",
    "BUFFER_TOO_SHORT",
    "CAUSAL_MESS",
    "CAUSED_BY_DISCONNECT",
    "CAUSED_BY_JOIN",
    "CAUSED_BY_LEAVE",
    "CAUSED_BY_NETWORK",
    "CAUSES",
    "CLIENT_SAFE_MAX_BODY",
    "CONNECTION_CLOSED",
    "COULD_NOT_CONNECT",
    "DAEMON_MAX_BODY",
    "DEFAULT_BUFFER_SIZE",
    "DEFAULT_GROUPS_SIZE",
    "DEFAULT_SPREAD_PORT",
    "DROP_RECV",
    "DUMMY_MESS",
    "ENDIAN_RESERVED",
    "ENDIAN_TYPE",
    "FIFO_MESS",
    "GROUPS_MESS",
    "GROUPS_TOO_SHORT",
    "HEADER_SIZE",
    "HIGH_PRIORITY",
    "ILLEGAL_GROUP",
    "ILLEGAL_MESSAGE",
    "ILLEGAL_SERVICE",
    "ILLEGAL_SESSION",
    "ILLEGAL_SPREAD",
    "JOIN_MESS",
    "KILL_MESS",
    "LATENCY_MESS",
    "LEAVE_MESS",
    "LIBRARY_VERSION",
    "LOW_PRIORITY",
    "MAX_AUTH_METHODS",
    "MAX_AUTH_NAME",
    "MAX_GROUPS_PER_MESSAGE",
    "MAX_GROUP_NAME",
    "MAX_LOCAL_GROUP_MEMBERS",
    "MAX_MESSAGE_BODY_LEN",
    "MAX_PRIVATE_NAME",
    "MAX_PROC_NAME",
    "MAX_SESSIONS",
    "MAX_SESSION_MESSAGES",
    "MEDIUM_PRIORITY",
    "MEMBERSHIP_MESS",
    "MESSAGE_TOO_LONG",
    "NET_ERROR_ON_SESSION",
    "NOT_REGULAR_MESS",
    "REGULAR_MESS",
    "REG_MEMB_MESS",
    "REJECT_AUTH",
    "REJECT_ILLEGAL_NAME",
    "REJECT_MESS",
    "REJECT_NOT_UNIQUE",
    "REJECT_NO_NAME",
    "REJECT_QUOTA",
    "REJECT_VERSION",
    "RELIABLE_MESS",
    "RESERVED",
    "RETRANSMIT_TYPE",
    "SAFE_MESS",
    "SELF_DISCARD",
    "SPREAD_VERSION",
    "SP_BUG",
    "STATETRANS_MESS",
    "TRANSITION_MESS",
    "UNRELIABLE_MESS",
    "is_membership_mess",
    "is_reg_memb_mess",
    "is_regular_mess",
    "is_reject_mess",
    "is_self_leave",
    "is_transition_mess",
]


# §1.1 sizes and limits
DEFAULT_SPREAD_PORT: Final = 4803
MAX_GROUP_NAME: Final = 32
MAX_PRIVATE_NAME: Final = 10
MAX_PROC_NAME: Final = 20
MAX_AUTH_NAME: Final = 30
MAX_AUTH_METHODS: Final = 3
MAX_GROUPS_PER_MESSAGE: Final = 100
MAX_MESSAGE_BODY_LEN: Final = 144000
HEADER_SIZE: Final = 48
MAX_SESSIONS: Final = 997
MAX_SESSION_MESSAGES: Final = 1000
MAX_LOCAL_GROUP_MEMBERS: Final = 3122
SPREAD_VERSION: Final = 0x04040000
LIBRARY_VERSION: Final = (4, 4, 0)

# §9: what the daemon accepts (B = data_len + 32*num_groups), and the client's
# safe default (the real 4.4.0 daemon crashes for 143,152 <= B <= 143,952).
DAEMON_MAX_BODY: Final = MAX_MESSAGE_BODY_LEN - HEADER_SIZE
CLIENT_SAFE_MAX_BODY: Final = 143151

# SpreadModule's own buffer defaults (§11)
DEFAULT_BUFFER_SIZE: Final = 10000
DEFAULT_GROUPS_SIZE: Final = 10

# §1.1 priorities
LOW_PRIORITY: Final = 0
MEDIUM_PRIORITY: Final = 1
HIGH_PRIORITY: Final = 2

# §1.2 service types and flags
UNRELIABLE_MESS: Final = 0x00000001
RELIABLE_MESS: Final = 0x00000002
FIFO_MESS: Final = 0x00000004
CAUSAL_MESS: Final = 0x00000008
AGREED_MESS: Final = 0x00000010
SAFE_MESS: Final = 0x00000020
REGULAR_MESS: Final = 0x0000003F
SELF_DISCARD: Final = 0x00000040
ENDIAN_RESERVED: Final = 0x80000080
ENDIAN_TYPE: Final = ENDIAN_RESERVED
CAUSED_BY_JOIN: Final = 0x00000100
CAUSED_BY_LEAVE: Final = 0x00000200
CAUSED_BY_DISCONNECT: Final = 0x00000400
CAUSED_BY_NETWORK: Final = 0x00000800
REG_MEMB_MESS: Final = 0x00001000
TRANSITION_MESS: Final = 0x00002000
MEMBERSHIP_MESS: Final = 0x00003F00
RETRANSMIT_TYPE: Final = 0x00004000
LATENCY_MESS: Final = 0x00008000
RESERVED: Final = 0x003FC000
JOIN_MESS: Final = 0x00010000
LEAVE_MESS: Final = 0x00020000
KILL_MESS: Final = 0x00040000
GROUPS_MESS: Final = 0x00080000
DUMMY_MESS: Final = 0x00100000
STATETRANS_MESS: Final = 0x00200000
REJECT_MESS: Final = 0x00400000
DROP_RECV: Final = 0x01000000
NOT_REGULAR_MESS: Final = 0x00FFFF00
CAUSES: Final = (
    CAUSED_BY_JOIN | CAUSED_BY_LEAVE | CAUSED_BY_DISCONNECT | CAUSED_BY_NETWORK
)

# §1.3 error and result codes
ACCEPT_SESSION: Final = 1
ILLEGAL_SPREAD: Final = -1
COULD_NOT_CONNECT: Final = -2
REJECT_QUOTA: Final = -3
REJECT_NO_NAME: Final = -4
REJECT_ILLEGAL_NAME: Final = -5
REJECT_NOT_UNIQUE: Final = -6
REJECT_VERSION: Final = -7
CONNECTION_CLOSED: Final = -8
REJECT_AUTH: Final = -9
ILLEGAL_SESSION: Final = -11
ILLEGAL_SERVICE: Final = -12
ILLEGAL_MESSAGE: Final = -13
ILLEGAL_GROUP: Final = -14
BUFFER_TOO_SHORT: Final = -15
GROUPS_TOO_SHORT: Final = -16
MESSAGE_TOO_LONG: Final = -17
NET_ERROR_ON_SESSION: Final = -18
SP_BUG: Final = -19


def is_regular_mess(t: int) -> bool:
    """A data message (§1.2 predicate, copied from sp.h)."""
    return (t & REGULAR_MESS) != 0 and (t & REJECT_MESS) == 0


def is_membership_mess(t: int) -> bool:
    """A membership notification (§1.2)."""
    return (t & MEMBERSHIP_MESS) != 0 and (t & REJECT_MESS) == 0


def is_self_leave(t: int) -> bool:
    """CAUSED_BY_LEAVE without REG_MEMB_MESS or TRANSITION_MESS (§1.2)."""
    return (t & CAUSED_BY_LEAVE) != 0 and (t & (REG_MEMB_MESS | TRANSITION_MESS)) == 0


def is_reject_mess(t: int) -> bool:
    """A reject message (§7.7)."""
    return (t & REJECT_MESS) != 0


def is_transition_mess(t: int) -> bool:
    """A transitional membership (§7.1)."""
    return is_membership_mess(t) and (t & TRANSITION_MESS) != 0


def is_reg_memb_mess(t: int) -> bool:
    """A regular membership (§7.1)."""
    return is_membership_mess(t) and (t & REG_MEMB_MESS) != 0
