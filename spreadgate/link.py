"""Connecting a component to its Spread daemon, with back-off and unique names."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterable

import spread

log = logging.getLogger(__name__)

BACKOFF_START_S = 0.2
BACKOFF_MAX_S = 5.0


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
) -> spread.Mailbox | None:
    """Connect and join ``groups``, retrying with back-off until ``stop`` is set.

    Returns None only when ``stop`` was set before a connection succeeded.
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
) -> None:
    """Receive until ``stop``, passing each message to ``handle``; reconnect when the daemon goes.

    ``handle`` runs on this thread and must return quickly (spool, don't convert):
    the daemon cuts off a member that stops reading.
    """
    groups = tuple(groups)
    while not stop.is_set():
        mbox = connect(daemon, role, groups=groups, membership=membership, stop=stop)
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
            with contextlib.suppress(spread.error, OSError):
                mbox.disconnect()
