"""Group commit: one ``fsync`` made durable the changes of every thread waiting for it.

A request that must not be answered before its change survives a crash calls
:meth:`GroupSync.changed` once the change is written (it gets a ticket) and
:meth:`GroupSync.wait` with that ticket.  If another thread's ``fsync`` began
after the change was written, it covers the change too; otherwise the waiter
becomes the one that syncs, for itself and for everyone who wrote meanwhile.
With one client at a time this is one ``fsync`` per change, as without it;
with several, concurrent saves share them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from gateway.blobs import fsync_dir


class GroupSync:
    """Shares calls of ``sync`` among the threads that wait for one at the same time."""

    def __init__(self, sync: Callable[[], None]) -> None:
        self._sync = sync
        self._syncing = threading.Lock()  # held by the one thread calling sync
        self._counter = threading.Lock()
        self._written = 0  # tickets handed out: changes written, maybe not yet durable
        self._durable = 0  # every ticket up to this one is durable

    def changed(self) -> int:
        """A change was written (call after the write returns); its ticket for :meth:`wait`."""
        with self._counter:
            self._written += 1
            return self._written

    def wait(self, ticket: int) -> None:
        """Return once the change with ``ticket`` is durable; raises what ``sync`` raises."""
        with self._syncing:
            if self._durable >= ticket:
                return
            with self._counter:
                covered = self._written  # written before this sync starts, so it covers them
            self._sync()
            self._durable = covered


class FolderSync:
    """A :class:`GroupSync` per folder, for entries renamed into it (``sync(folder)``)."""

    MAX_FOLDERS = 1024

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folders: dict[Path, GroupSync] = {}

    def sync(self, folder: Path) -> None:
        """Return once the entries already renamed into ``folder`` are durable."""
        with self._lock:
            group = self._folders.get(folder)
            if group is None:
                if len(self._folders) >= self.MAX_FOLDERS:
                    self._folders.clear()  # waiters keep their own reference; a new one starts fresh
                group = self._folders[folder] = GroupSync(lambda: fsync_dir(folder))
            ticket = group.changed()
        group.wait(ticket)
