"""The exception tree of the spread package: one root, split by who was at fault (§1.3)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from spread import constants as c


class SpreadError(Exception):
    """Root of every spread error; ``args == (code, text)`` as SpreadModule's ``spread.error``."""

    default_code: int = c.SP_BUG
    default_text: str = "spread error"

    def __init__(self, code: int | None = None, text: str | None = None) -> None:
        code = self.default_code if code is None else code
        text = self.default_text if text is None else text
        super().__init__(code, text)
        self.code = code
        self.text = text

    def __str__(self) -> str:
        return f"{self.text} ({self.code})"


error = SpreadError


class LocalProtocolError(SpreadError):
    """The caller misused the API; nothing was sent."""


class RemoteProtocolError(SpreadError):
    """The peer sent bytes that violate the protocol."""


class ConnectionProblem(SpreadError):
    """The transport to the daemon could not be set up or broke."""


class IllegalSpread(LocalProtocolError, ValueError):
    """The daemon string is malformed or its host does not resolve (ILLEGAL_SPREAD, -1)."""

    default_code = c.ILLEGAL_SPREAD
    default_text = "Illegal spread was provided"


class CouldNotConnect(ConnectionProblem):
    """socket() or connect() failed (COULD_NOT_CONNECT, -2)."""

    default_code = c.COULD_NOT_CONNECT
    default_text = "Could not connect. Is Spread running?"


class ConnectionClosed(ConnectionProblem):
    """The daemon closed the connection or a send/receive failed (CONNECTION_CLOSED, -8)."""

    default_code = c.CONNECTION_CLOSED
    default_text = "Connection closed by spread"


class NetErrorOnSession(ConnectionProblem):
    """The session was already broken by an earlier failure (NET_ERROR_ON_SESSION, -18)."""

    default_code = c.NET_ERROR_ON_SESSION
    default_text = "The network socket experienced an error. This Spread mailbox will no longer work until the connection is disconnected and then reconnected"


class IllegalSession(LocalProtocolError):
    """The mailbox is closed or unknown (ILLEGAL_SESSION, -11)."""

    default_code = c.ILLEGAL_SESSION
    default_text = "Illegal mailbox"


class IllegalService(LocalProtocolError, ValueError):
    """A multicast service type without exactly the allowed bits (ILLEGAL_SERVICE, -12)."""

    default_code = c.ILLEGAL_SERVICE
    default_text = "invalid service type"


class IllegalGroup(LocalProtocolError, ValueError):
    """A group name that is empty, too long or has illegal bytes (ILLEGAL_GROUP, -14)."""

    default_code = c.ILLEGAL_GROUP
    default_text = "Illegal group"


class MessageTooLong(LocalProtocolError, ValueError):
    """The payload plus 32 bytes per group exceeds the configured limit (MESSAGE_TOO_LONG, -17)."""

    default_code = c.MESSAGE_TOO_LONG
    default_text = "Message too long"


class IllegalMessage(RemoteProtocolError):
    """A received header or body is malformed (ILLEGAL_MESSAGE, -13)."""

    default_code = c.ILLEGAL_MESSAGE
    default_text = "Illegal message"


class RejectedMessage(RemoteProtocolError):
    """The daemon refused a request with a REJECT_MESS (§7.7); ``service_type`` holds old_type|REJECT."""

    default_code = c.ILLEGAL_MESSAGE
    default_text = "unexpected service type: request rejected by the daemon"

    def __init__(self, service_type: int, group: str) -> None:
        super().__init__(
            None, f"{self.default_text} (type 0x{service_type:08x}, group {group!r})"
        )
        self.service_type = service_type
        self.group = group


class RejectedSession(ConnectionProblem):
    """The daemon refused the connection during the handshake (§3); code is the reject byte."""

    default_text = "Connection rejected"


class RejectQuota(RejectedSession):
    """The daemon already has its maximum number of sessions (REJECT_QUOTA, -3)."""

    default_code = c.REJECT_QUOTA
    default_text = "Connection rejected, too many users"


class RejectNoName(RejectedSession):
    """Defined by the protocol but never sent by 4.4 (REJECT_NO_NAME, -4)."""

    default_code = c.REJECT_NO_NAME
    default_text = "Connection rejected, no name was supplied"


class RejectIllegalName(RejectedSession):
    """Bad private name or malformed connect message (REJECT_ILLEGAL_NAME, -5)."""

    default_code = c.REJECT_ILLEGAL_NAME
    default_text = "Connection rejected, illegal name"


class RejectNotUnique(RejectedSession):
    """The private name is already in use on the daemon (REJECT_NOT_UNIQUE, -6)."""

    default_code = c.REJECT_NOT_UNIQUE
    default_text = "Connection rejected, name not unique"


class RejectVersion(RejectedSession):
    """Library and daemon versions do not fit (REJECT_VERSION, -7)."""

    default_code = c.REJECT_VERSION
    default_text = "Connection rejected, library does not fit daemon"


class RejectAuth(RejectedSession):
    """Authentication method refused or access denied (REJECT_AUTH, -9)."""

    default_code = c.REJECT_AUTH
    default_text = "Connection rejected, authentication failed"


class DaemonConfigError(SpreadError, ValueError):
    """The embedded daemon was given an invalid configuration."""

    default_code = c.ILLEGAL_SPREAD
    default_text = "invalid daemon configuration"


_REJECTS: Mapping[int, type[RejectedSession]] = MappingProxyType(
    {
        cls.default_code: cls
        for cls in (
            RejectQuota,
            RejectNoName,
            RejectIllegalName,
            RejectNotUnique,
            RejectVersion,
            RejectAuth,
        )
    }
)


def reject_error(code: int) -> RejectedSession:
    """The exception for a handshake reject byte read as a signed value (§3.2)."""
    cls = _REJECTS.get(code)
    if cls is None:
        return RejectedSession(code, f"Connection rejected with unknown code {code}")
    return cls()
