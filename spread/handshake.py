"""Sans-IO connect handshakes (§3): the client side and the daemon side, both tolerant of splits."""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass

from spread import constants as c
from spread.codec import is_legal_name
from spread.errors import ConnectionClosed, RejectAuth, RejectVersion, reject_error

AUTH_BLOCK = c.MAX_AUTH_NAME * c.MAX_AUTH_METHODS  # §3.2 item 3: 90 bytes
NULL_AUTH = b"NULL".ljust(AUTH_BLOCK, b"\0")


def version_number(major: int, minor: int, patch: int = 0) -> int:
    """The daemon's comparison value major*10000 + minor*100 + patch (§3.1)."""
    return major * 10000 + minor * 100 + patch


def reject_byte(code: int) -> bytes:
    """A negative reject code as the one signed byte the daemon sends (§1.3)."""
    return bytes([code & 0xFF])


def connect_message(name: str, membership: bool, priority: int) -> bytes:
    """The 4.4.0 connect message, to be sent in ONE write (§3.1)."""
    raw = name.encode("latin-1")
    flags = (1 if membership else 0) | (16 if priority > 0 else 0)
    return bytes([*c.LIBRARY_VERSION, flags, len(raw)]) + raw


class ClientHandshake:
    """Client side after the connect message: auth list, auth choice, accept (§3.2, §3.3).

    Feed received bytes to ``receive_data``; it returns bytes to send (possibly empty) and
    raises the matching error on a reject. ``private_group`` is set once ``done``.
    """

    def __init__(self, priority: int = 0, method: bytes = b"NULL") -> None:
        self._buf = bytearray()
        self._priority = priority
        self._method = method
        self._auth_done = False
        self.done = False
        self.private_group = ""
        self.daemon_version = (0, 0, 0)

    def receive_data(self, data: bytes) -> bytes:
        """Consume bytes from the daemon; return what must be sent next."""
        self._buf += data
        if not self._auth_done:
            return self._read_auth_list()
        self._read_accept()
        return b""

    def _read_auth_list(self) -> bytes:
        if not self._buf:
            return b""
        n = self._buf[0] - 256 if self._buf[0] >= 128 else self._buf[0]
        if n < 0:
            raise reject_error(n)
        if n > AUTH_BLOCK:
            raise ConnectionClosed(
                None, f"daemon sent an auth list length of {n} (> 90)"
            )
        if len(self._buf) < 1 + n:
            return b""
        methods = bytes(self._buf[1 : 1 + n]).split()
        del self._buf[: 1 + n]
        self._auth_done = True
        if self._method not in methods:
            raise RejectAuth(
                None, f"daemon does not offer auth method {self._method!r}: {methods!r}"
            )
        out = self._method.ljust(AUTH_BLOCK, b"\0")
        if self._buf:
            self._read_accept()
        return out

    def _read_accept(self) -> None:
        b = self._buf
        if not b:
            return
        code = b[0] - 256 if b[0] >= 128 else b[0]
        if code != c.ACCEPT_SESSION:
            raise reject_error(code)
        if len(b) < 5 or len(b) < 5 + b[4]:
            return
        major, minor, patch, glen = b[1], b[2], b[3], b[4]
        if version_number(major, minor, patch) < version_number(3, 1, 0):
            raise RejectVersion(
                None, f"daemon version {major}.{minor}.{patch} is older than 3.1.0"
            )
        if self._priority > 0 and version_number(major, minor, patch) < version_number(
            3, 8, 0
        ):
            raise RejectVersion(None, "priority needs a daemon of at least 3.8.0")
        self.daemon_version = (major, minor, patch)
        self.private_group = bytes(b[5 : 5 + glen]).decode("latin-1")
        del b[: 5 + glen]
        self.done = True

    @property
    def leftover(self) -> bytes:
        """Bytes received after the accept: the start of the message stream."""
        return bytes(self._buf)


class Stage(enum.Enum):
    """Where a daemon-side handshake stands (§3.5)."""

    CONNECT = "connect"
    AUTH = "auth"
    ACCEPTED = "accepted"
    CLOSED = "closed"


@dataclass
class Step:
    """What the daemon must do after feeding bytes: send ``send``, then close if ``close``."""

    send: bytes = b""
    close: bool = False


class DaemonHandshake:
    """Daemon side (§3.1–§3.5). Needs ``reserve(name) -> bool`` to claim unique private names.

    Partial reads are tolerated (more lenient than the real daemon, §3.4), but bytes beyond
    the connect message before the auth list was sent are pipelining and get 0xFB.
    """

    def __init__(
        self,
        daemon_name: str,
        reserve: Callable[[str], bool],
        fd: int = 0,
        methods: tuple[bytes, ...] = (b"NULL",),
        allowed: bool = True,
    ) -> None:
        self._daemon = daemon_name
        self._allowed = allowed
        self._reserve = reserve
        self._fd = fd
        self._methods = methods
        self._buf = bytearray()
        self.stage = Stage.CONNECT
        self.version = 0
        self.name = ""
        self.membership = False
        self.priority = 0
        self.leftover = b""

    @property
    def private_group(self) -> str:
        """``#name#daemon`` (§0)."""
        return f"#{self.name}#{self._daemon}"

    def receive_data(self, data: bytes) -> Step:
        """Feed bytes; returns what to send and whether to close."""
        self._buf += data
        if self.stage is Stage.CONNECT:
            return self._read_connect()
        if self.stage is Stage.AUTH:
            return self._read_auth()
        return Step()

    def _reject(self, code: int) -> Step:
        self.stage = Stage.CLOSED
        return Step(reject_byte(code), True)

    def _read_connect(self) -> Step:
        b = self._buf
        if len(b) < 2:
            return Step()
        three = version_number(b[0], b[1]) > version_number(3, 14)  # §3.1 item 1
        if three and len(b) < 3:
            return Step()
        self.version = version_number(b[0], b[1], b[2] if three else 0)
        if self.version < version_number(3, 1, 0):
            return self._reject(c.REJECT_VERSION)
        pos = 3 if three else 2
        if len(b) < pos + 2:
            return Step()
        flags, length = b[pos], b[pos + 1]
        if length > c.MAX_PRIVATE_NAME:  # also catches negative signed bytes
            return self._reject(c.REJECT_ILLEGAL_NAME)
        end = pos + 2 + length
        if len(b) < end:
            return Step()
        if (
            len(b) > end
        ):  # §3.4: pipelined bytes make the real name read return more than L
            return self._reject(c.REJECT_ILLEGAL_NAME)
        self.membership, self.priority = flags % 2 == 1, flags // 16
        return self._claim_name(bytes(b[pos + 2 : end]))

    def _claim_name(self, raw: bytes) -> Step:
        if raw:
            if not is_legal_name(raw, c.MAX_PRIVATE_NAME):
                return self._reject(c.REJECT_ILLEGAL_NAME)
            if not self._reserve(raw.decode("latin-1")):
                return self._reject(c.REJECT_NOT_UNIQUE)
            self.name = raw.decode("latin-1")
        else:
            self.name = self._generate_name()
        self._buf.clear()
        if self.version >= version_number(3, 16, 0):
            self.stage = Stage.AUTH
            listing = b"".join(m + b" " for m in self._methods)
            return Step(bytes([len(listing)]) + listing)
        return self._accept()

    def _generate_name(self) -> str:
        while True:  # §3.1 item 3: r<random 0..9998>-<fd>, cut to 9 characters
            name = f"r{random.randint(0, 9998)}-{self._fd}"[:9]
            if self._reserve(name):
                return name

    def _read_auth(self) -> Step:
        if len(self._buf) < AUTH_BLOCK:
            return Step()
        block = bytes(self._buf[:AUTH_BLOCK])
        self.leftover = bytes(self._buf[AUTH_BLOCK:])
        self._buf.clear()
        chosen = []
        for i in range(0, AUTH_BLOCK, c.MAX_AUTH_NAME):
            name = block[i : i + c.MAX_AUTH_NAME].split(b"\0", 1)[0]
            if not name:
                break
            chosen.append(name)
        if not chosen or any(m not in self._methods for m in chosen):
            return self._reject(c.REJECT_AUTH)
        return self._accept()

    def _accept(self) -> Step:
        """Accept bytes: 01, major, minor, [patch if lib >= 3.15], len, name (§3.3)."""
        if not self._allowed:  # access control refuses with REJECT_AUTH (§3.2 item 4)
            return self._reject(c.REJECT_AUTH)
        self.stage = Stage.ACCEPTED
        major, minor, patch = c.LIBRARY_VERSION
        head = bytes([c.ACCEPT_SESSION, major, minor])
        if self.version >= version_number(3, 15, 0):
            head += bytes([patch])
        pg = self.private_group.encode("latin-1")
        return Step(head + bytes([len(pg)]) + pg)
