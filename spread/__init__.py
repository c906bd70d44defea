"""Pure-Python Spread 4.4 client with the classic SpreadModule API, plus an embedded daemon."""

from spread import constants  # SpreadModule exposes every constant (§11)
from spread.client import connect, version
from spread.constants import *
from spread.errors import (
    ConnectionClosed,
    CouldNotConnect,
    IllegalGroup,
    IllegalMessage,
    IllegalService,
    IllegalSession,
    IllegalSpread,
    MessageTooLong,
    NetErrorOnSession,
    RejectAuth,
    RejectedMessage,
    RejectedSession,
    RejectIllegalName,
    RejectNotUnique,
    RejectQuota,
    RejectVersion,
    SpreadError,
    error,
)
from spread.mailbox import Mailbox
from spread.messages import (
    GroupId,
    MembershipMessage,
    MembershipMsgType,
    Message,
    RegularMessage,
    RegularMsgType,
)

MailboxType = Mailbox

__all__ = [
    "ConnectionClosed",
    "CouldNotConnect",
    "GroupId",
    "IllegalGroup",
    "IllegalMessage",
    "IllegalService",
    "IllegalSession",
    "IllegalSpread",
    "Mailbox",
    "MailboxType",
    "MembershipMessage",
    "MembershipMsgType",
    "Message",
    "MessageTooLong",
    "NetErrorOnSession",
    "RegularMessage",
    "RegularMsgType",
    "RejectAuth",
    "RejectIllegalName",
    "RejectNotUnique",
    "RejectQuota",
    "RejectVersion",
    "RejectedMessage",
    "RejectedSession",
    "SpreadError",
    "connect",
    "error",
    "version",
]
__all__ += constants.__all__
