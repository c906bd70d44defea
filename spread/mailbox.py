"""A connected session (SpreadModule's Mailbox, §11): blocking, with separate send and receive locks."""

from __future__ import annotations

import array
import fcntl
import logging
import select
import socket
import termios
import threading
import time
from collections import deque
from collections.abc import Iterator
from types import TracebackType
from typing import NoReturn, Self

from spread import constants as c
from spread.codec import (
    NAME_SIZE,
    Frame,
    FrameDecoder,
    encode_message,
    is_legal_name,
    pad_name,
    to_bytes,
)
from spread.errors import (
    ConnectionClosed,
    IllegalGroup,
    IllegalMessage,
    IllegalService,
    IllegalSession,
    MessageTooLong,
    NetErrorOnSession,
)
from spread.messages import Message, from_frame

log = logging.getLogger(__name__)

DRAIN_TIMEOUT = 1.0
RECV_CHUNK = 256 * 1024
_SLOT_CACHE_LIMIT = 1024
_SENDABLE = c.REGULAR_MESS | c.SELF_DISCARD


class Mailbox:
    """One session with a daemon.

    One thread may block in ``receive()`` while others call ``multicast()``, ``join()``,
    ``leave()``: sending and receiving use separate locks. A member that sends a lot must keep
    receiving (for example from a reader thread), otherwise both socket buffers fill up and
    the daemon and the client wait on each other (§5.4); the embedded daemon kills sessions
    that leave more than 1000 messages unread (§6.2).
    """

    def __init__(
        self,
        sock: socket.socket,
        private_group: str,
        max_message: int,
        leftover: bytes = b"",
    ) -> None:
        self._sock = sock
        self._private_group = private_group
        self._pg_slot = pad_name(private_group)
        self.max_message = max_message
        self._send_lock = threading.Lock()
        self._recv_lock = threading.Lock()
        self._decoder = FrameDecoder(from_daemon=True)
        try:
            frames = self._decoder.feed(leftover)
        except IllegalMessage:
            frames = []  # the decoder keeps the error: the first receive() reports it
        self._pending: deque[Frame] = deque(frames)
        self._scratch = bytearray(RECV_CHUNK)
        self._slots: dict[str | bytes, bytes] = {}
        self._closed = False
        self._broken = False

    @property
    def private_group(self) -> str:
        """``#name#daemon`` as the daemon assigned it (§3.3)."""
        return self._private_group

    def __repr__(self) -> str:
        state = "closed" if self._closed else "broken" if self._broken else "open"
        return f"<spread.Mailbox {self._private_group} {state}>"

    # --- checks -----------------------------------------------------------------------------
    def _check(self, method: str) -> None:
        if self._closed:
            raise IllegalSession(None, f"{method}() called on closed mbox")
        if self._broken:
            raise NetErrorOnSession()

    def _fail(self, why: str) -> ConnectionClosed:
        self._broken = True
        log.info("spread session %s broke: %s", self._private_group, why)
        return ConnectionClosed(None, f"Connection closed by spread: {why}")

    # --- receiving --------------------------------------------------------------------------
    def receive(self, timeout: float | None = None) -> Message:
        """Block until a message arrives; with ``timeout`` (seconds) raise TimeoutError instead."""
        self._check("receive")
        with self._recv_lock:
            deadline = None if timeout is None else time.monotonic() + timeout
            while not self._pending:
                self._fill(deadline)
            frame = self._pending.popleft()
        return from_frame(frame)

    def _fill(self, deadline: float | None) -> None:
        if self._decoder.error is not None:  # found behind frames already delivered
            self._broken_stream(self._decoder.error)
        if deadline is not None:
            remaining = max(0.0, deadline - time.monotonic())
            if not select.select([self._sock], [], [], remaining)[0]:
                raise TimeoutError("no Spread message within the timeout")
        try:
            n = self._sock.recv_into(self._scratch)
        except OSError as exc:
            if self._closed:
                raise IllegalSession(None, "receive() called on closed mbox") from exc
            raise self._fail(str(exc)) from exc
        if n == 0:
            if self._closed:
                raise IllegalSession(None, "receive() called on closed mbox")
            raise self._fail("the daemon closed the connection")
        with memoryview(self._scratch) as mv:
            try:
                self._pending.extend(self._decoder.feed(mv[:n]))
            except IllegalMessage as exc:
                self._broken_stream(exc)

    def _broken_stream(self, exc: IllegalMessage) -> NoReturn:
        # the stream cannot be resynchronised: every later call says the session is broken
        self._fail(exc.text)
        raise IllegalMessage(None, f"malformed frame from the daemon: {exc.text}") from exc

    def __iter__(self) -> Iterator[Message]:
        """Yield messages until this mailbox is disconnected; a daemon failure raises."""
        while True:
            try:
                yield self.receive()
            except IllegalSession:
                if self._closed:
                    return
                raise

    def poll(self) -> int:
        """Bytes readable, including bytes already buffered here; 0 means nothing pending (§10)."""
        self._check("poll")
        buf = array.array("i", [0])
        fcntl.ioctl(self._sock.fileno(), termios.FIONREAD, buf)
        queued = sum(
            c.HEADER_SIZE + len(f.data) + NAME_SIZE * len(f.groups)
            for f in self._pending
        )
        return int(buf[0]) + queued + self._decoder.buffered

    def fileno(self) -> int:
        """The socket's file descriptor, for select/poll; check poll() for buffered messages too."""
        self._check("fileno")
        return self._sock.fileno()

    # --- sending ----------------------------------------------------------------------------
    def multicast(
        self, service_type: int, group: str, message: bytes | str, msg_type: int = 0
    ) -> int:
        """Send ``message`` to one group or private group; returns the payload length (§5.1)."""
        return self._send_data("multicast", service_type, (group,), message, msg_type)

    def multigroup_multicast(
        self,
        service_type: int,
        groups: tuple[str, ...],
        message: bytes | str,
        msg_type: int = 0,
    ) -> int:
        """Send one copy of ``message`` to every member of the union of ``groups`` (§6.2)."""
        if not isinstance(groups, tuple):
            raise TypeError("groups must be a tuple of group names")
        if not groups:
            raise ValueError("groups must not be empty")
        return self._send_data(
            "multigroup_multicast", service_type, groups, message, msg_type
        )

    def _send_data(
        self,
        method: str,
        service: int,
        groups: tuple[str, ...],
        message: bytes | str,
        msg_type: int,
    ) -> int:
        self._check(method)
        if service & ~_SENDABLE or not service & c.REGULAR_MESS:
            raise IllegalService(None, f"invalid service type 0x{service:x}")
        data = message.encode() if isinstance(message, str) else bytes(message)
        if len(groups) > c.MAX_GROUPS_PER_MESSAGE:
            raise IllegalGroup(
                None, f"{len(groups)} groups; at most 100 per message (§9)"
            )
        slots = [self._dest_slot(g) for g in groups]
        if len(data) + NAME_SIZE * len(slots) > self.max_message:
            raise MessageTooLong(
                None,
                f"{len(data)} bytes to {len(slots)} group(s) exceeds {self.max_message}",
            )
        self._send(encode_message(service, self._pg_slot, slots, msg_type, data))
        return len(data)

    def _dest_slot(self, group: str | bytes) -> bytes:
        slot = self._slots.get(group)
        if slot is None:
            raw = to_bytes(group)
            if not 0 < len(raw) < NAME_SIZE or 0 in raw:
                raise IllegalGroup(None, f"illegal destination group {group!r}")
            if len(self._slots) >= _SLOT_CACHE_LIMIT:
                self._slots.clear()
            slot = self._slots[group] = pad_name(raw)
        return slot

    def join(self, group: str) -> None:
        """Join ``group``; membership notifications follow if this session asked for them (§5.2)."""
        self._group_request("join", c.JOIN_MESS, group)

    def leave(self, group: str) -> None:
        """Leave ``group`` (§5.2)."""
        self._group_request("leave", c.LEAVE_MESS, group)

    def _group_request(self, method: str, kind: int, group: str) -> None:
        self._check(method)
        try:
            raw = to_bytes(group)
        except (UnicodeEncodeError, TypeError) as exc:
            raise IllegalGroup(None, f"illegal group name {group!r}") from exc
        if not is_legal_name(raw):  # §5.2: 1..31 bytes in 0x24..0x7E
            raise IllegalGroup(None, f"illegal group name {group!r}")
        self._send(encode_message(kind, self._pg_slot, [pad_name(raw)], 0, b""))

    def _send(self, frame: bytes) -> None:
        with self._send_lock:
            if self._broken:
                raise NetErrorOnSession()
            try:
                self._sock.sendall(frame)
            except OSError as exc:
                raise self._fail(str(exc)) from exc

    # --- closing ----------------------------------------------------------------------------
    def disconnect(self) -> None:
        """KILL, shut down writing, drain until EOF or 1 s, close (§5.3, §5.4). Idempotent."""
        if self._closed:
            return
        self._closed = True
        kill = encode_message(c.KILL_MESS, self._pg_slot, [self._pg_slot], 0, b"")
        try:
            with self._send_lock:
                self._sock.settimeout(DRAIN_TIMEOUT)  # a daemon that stopped reading us
                if not self._broken:
                    self._sock.sendall(kill)
                self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self._drain(time.monotonic() + DRAIN_TIMEOUT)
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in receive()
        except OSError:
            pass
        self._sock.close()

    def _drain(self, deadline: float) -> None:
        if not self._recv_lock.acquire(timeout=DRAIN_TIMEOUT):
            return  # another thread is receiving; it will see the EOF
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                if not select.select([self._sock], [], [], remaining)[0]:
                    return
                if not self._sock.recv(RECV_CHUNK):
                    return
        except OSError:
            return
        finally:
            self._recv_lock.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.disconnect()

    def __del__(self) -> None:
        if getattr(self, "_closed", True):
            return
        self._closed = True
        try:  # best effort, never block in a finaliser
            self._sock.setblocking(False)
            self._sock.send(
                encode_message(c.KILL_MESS, self._pg_slot, [self._pg_slot], 0, b"")
            )
        except OSError:
            pass
        self._sock.close()
