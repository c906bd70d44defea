"""Connecting a component to its Spread daemon, with back-off and unique names."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Iterable

import spread

log = logging.getLogger(__name__)

BACKOFF_START_S = 0.2
BACKOFF_MAX_S = 5.0


class LinkStats:
    """The sessions a component opened to its daemon, by role; one object shared by its threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._opened: Counter[str] = Counter()
        self._live: Counter[str] = Counter()

    def opened(self, role: str) -> None:
        with self._lock:
            self._opened[role] += 1
            self._live[role] += 1

    def closed(self, role: str) -> None:
        with self._lock:
            self._live[role] = max(0, self._live[role] - 1)

    def live(self, role: str) -> int:
        """How many sessions of ``role`` are connected now."""
        with self._lock:
            return self._live[role]

    @property
    def reconnects(self) -> int:
        """Connections made after each role's first one: how often a lost daemon was found again."""
        with self._lock:
            return sum(max(0, count - 1) for count in self._opened.values())


def private_name(role: str) -> str:
    """A private name for ``role`` ('g', 'p', 'r'): at most 10 characters, likely unique."""
    return f"{role}{os.getpid() % 10000}{secrets.token_hex(2)}"[: spread.MAX_PRIVATE_NAME]


def connect(
    daemon: str,
    role: str,
    *,
    groups: Iterable[str] = (),
    membership: bool = False,
    stop: threading.Event,
    stats: LinkStats | None = None,
) -> spread.Mailbox | None:
    """Connect and join ``groups``, retrying with back-off until ``stop`` is set.

    Returns None only when ``stop`` was set before a connection succeeded.  ``stats``, when
    given, counts the session as opened under ``role`` (the caller reports when it closes it).
    """
    delay = BACKOFF_START_S
    while not stop.is_set():
        try:
            mbox = spread.connect(daemon, private_name(role), 0, int(membership))
            for group in groups:
                mbox.join(group)
        except (spread.error, OSError) as exc:
            log.warning("spread daemon %s not reachable (%s); retrying in %.1f s", daemon, exc, delay)
            stop.wait(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)
            continue
        log.info("connected to spread daemon %s as %s", daemon, mbox.private_group)
        if stats is not None:
            stats.opened(role)
        return mbox
    return None


RECEIVE_TIMEOUT_S = 0.5


def serve(
    daemon: str,
    role: str,
    *,
    groups: Iterable[str],
    membership: bool,
    stop: threading.Event,
    handle: Callable[[spread.Mailbox, object], None],
    on_connect: Callable[[spread.Mailbox], None] = lambda mbox: None,
    stats: LinkStats | None = None,
) -> None:
    """Receive until ``stop``, passing each message to ``handle``; reconnect when the daemon goes.

    ``handle`` runs on this thread and must return quickly (spool, don't convert):
    the daemon cuts off a member that stops reading.
    """
    groups = tuple(groups)
    while not stop.is_set():
        mbox = connect(daemon, role, groups=groups, membership=membership, stop=stop, stats=stats)
        if mbox is None:
            return
        on_connect(mbox)
        try:
            while not stop.is_set():
                try:
                    message = mbox.receive(timeout=RECEIVE_TIMEOUT_S)
                except TimeoutError:
                    continue
                handle(mbox, message)
        except spread.error as exc:
            log.warning("lost the spread daemon %s (%s); reconnecting", daemon, exc)
        finally:
            if stats is not None:
                stats.closed(role)
            with contextlib.suppress(spread.error, OSError):
                mbox.disconnect()
