"""Declared, validated configuration of the embedded daemon."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from spread import constants as c
from spread.codec import is_legal_name
from spread.errors import DaemonConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK_ONLY = ("127.0.0.0/8", "::1/128")


@dataclass(frozen=True)
class DaemonConfig:
    """Everything the daemon can be told; invalid values raise DaemonConfigError listing all problems.

    ``allow`` lists client networks; a TCP client from elsewhere completes the handshake up to
    the accept and then gets REJECT_AUTH (0xF7) and is closed (§3.2 item 4). Unix-socket
    clients are always allowed. ``slow_reader_grace`` > 0 makes a sender wait (its input is
    paused) while a recipient is over the queue limits, and kills the recipient only if it
    does not drain within that many seconds; 0 kills at once, like the real daemon (§6.2).
    """

    host: str = "127.0.0.1"
    port: int = c.DEFAULT_SPREAD_PORT
    name: str = "localhost"
    unix_path: str | None = None
    allow: tuple[str, ...] = LOOPBACK_ONLY
    max_sessions: int = c.MAX_SESSIONS
    max_session_messages: int = c.MAX_SESSION_MESSAGES
    max_session_bytes: int = 64 * 1024 * 1024
    slow_reader_grace: float = 1.0
    max_group_members: int = c.MAX_LOCAL_GROUP_MEMBERS
    connect_timeout: float = 1.0
    networks: tuple[Network, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = list(self._problems())
        nets: list[Network] = []
        for spec in self.allow:
            try:
                nets.append(ipaddress.ip_network(spec, strict=False))
            except ValueError as exc:
                problems.append(f"allow: {exc}")
        if problems:
            raise DaemonConfigError(
                None, "invalid daemon configuration: " + "; ".join(problems)
            )
        object.__setattr__(self, "networks", tuple(nets))

    def _problems(self) -> list[str]:
        checks = [
            (0 <= self.port < 65536, f"port {self.port} outside 0..65535"),
            (
                is_legal_name(
                    self.name.encode("latin-1", "replace"), c.MAX_PROC_NAME - 1
                ),
                f"daemon name {self.name!r} must be 1..19 characters in '$'..'~'",
            ),
            ("#" not in self.name, "daemon name must not contain '#'"),
            (
                0 < self.max_sessions <= c.MAX_SESSIONS,
                f"max_sessions must be 1..{c.MAX_SESSIONS}",
            ),
            (self.max_session_messages > 0, "max_session_messages must be positive"),
            (
                self.max_session_bytes >= c.MAX_MESSAGE_BODY_LEN,
                "max_session_bytes must be >= 144000",
            ),
            (self.slow_reader_grace >= 0, "slow_reader_grace must be >= 0"),
            (self.max_group_members > 0, "max_group_members must be positive"),
            (self.connect_timeout > 0, "connect_timeout must be positive"),
        ]
        return [text for ok, text in checks if not ok]

    def allows(self, address: str) -> bool:
        """True when a TCP peer address is inside one of the allowed networks."""
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in net for net in self.networks)
