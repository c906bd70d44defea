"""When a write to the share is a finished document: the debounce rules D4–D10 of dav-clients.md.

Pure bookkeeping with an injectable clock, no sockets and no files: a
*candidate* is a path whose current bytes may be forwarded.  A complete PUT,
or a MOVE or COPY onto a document name, makes one; a MOVE carries a pending
candidate to its destination; a DELETE or a move onto a temporary name drops
it.  A candidate is *due* when the lock covering it is released, or after the
quiet period with no write-related request on it; several writes in between
are one candidate (D7).  Whether its bytes are new is decided when it settles
(:meth:`gateway.intake.Intake.settle`), not here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote, urlsplit

from gateway.ignore import is_ignored


@dataclass(frozen=True)
class Written:
    """What the PUT that made a candidate knew of its bytes (spares hashing them again)."""

    inode: int
    size: int
    sha256: str
    content_type: str


@dataclass(eq=False)
class Candidate:
    path: str
    due: float
    written: Written | None = None


def normalize(path: str) -> str:
    """``/a//b/`` → ``/a/b``: the one spelling of a share path used as a key."""
    return "/" + "/".join(part for part in path.split("/") if part)


def destination_path(header: str, script_name: str = "") -> str:
    """The share path a ``Destination`` header (absolute URL or path) names."""
    path = unquote(urlsplit(header).path, errors="surrogateescape")
    if script_name and path.startswith(script_name.rstrip("/") + "/"):
        path = path[len(script_name.rstrip("/")):]
    return normalize(path)


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


class Journal(Protocol):
    """Where the debouncer writes its changes (:class:`gateway.pending.PendingFile`)."""

    def append(self, upserts: Mapping[str, Written | None], gone: Iterable[str] = ()) -> int: ...

    def sync(self, ticket: int) -> None: ...

    def close(self) -> None: ...


class NoJournal:
    """Keeps nothing: for a debouncer whose candidates need not survive a restart."""

    def append(self, upserts: Mapping[str, Written | None], gone: Iterable[str] = ()) -> int:
        return 0

    def sync(self, ticket: int) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class Debouncer:
    """Pending candidates by path; every change goes to ``journal``, and ``wake`` is called when
    a candidate may have become due sooner than the settler expects.

    A new candidate is durable in the journal before :meth:`written` or :meth:`moved` returns
    (the request that made it is answered after); the lock orders the journal's lines.
    """

    quiet_s: float
    clock: Callable[[], float] = time.monotonic
    journal: Journal = field(default_factory=NoJournal)
    wake: Callable[[], None] = lambda: None
    pending: dict[str, Candidate] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def restore(self, paths: dict[str, Written | None]) -> None:
        """Candidates left pending by a previous run: each gets a fresh quiet period."""
        with self._lock:
            for path, written in paths.items():
                self.pending[path] = Candidate(path, self.clock() + self.quiet_s, written)
        self.wake()

    def written(self, path: str, written: Written | None = None) -> None:
        """A complete PUT (D1), or a resource created by LOCK (a placeholder, D4)."""
        path = normalize(path)
        with self._lock:
            if is_ignored(path.rsplit("/", 1)[-1]):
                ticket = self.journal.append({}, self._drop(path))
            else:
                self.pending[path] = Candidate(path, self.clock() + self.quiet_s, written)
                ticket = self.journal.append({path: written})
        # A new candidate's quiet period ends after every other's: the settler need not wake.
        self.journal.sync(ticket)

    def touched(self, path: str) -> None:
        """A write-related request (PROPPATCH, failed PUT …): restart the quiet clock (D6b)."""
        with self._lock:
            for candidate in self._under(normalize(path)):
                candidate.due = self.clock() + self.quiet_s

    def moved(self, source: str, dest: str, *, copy: bool = False) -> None:
        """A successful MOVE or COPY: the destination is a candidate; a MOVE takes the source's (D5, D9)."""
        source, dest = normalize(source), normalize(dest)
        with self._lock:
            carried = {} if copy else {c.path: self.pending.pop(c.path) for c in self._under(source)}
            gone = set(carried) | set(self._drop(dest))
            upserts: dict[str, Written | None] = {}
            for old, candidate in carried.items():
                new = dest + old[len(source):]
                if not is_ignored(new.rsplit("/", 1)[-1]):
                    self.pending[new] = Candidate(new, self.clock() + self.quiet_s, candidate.written)
                    upserts[new] = candidate.written
            if dest not in self.pending and not is_ignored(dest.rsplit("/", 1)[-1]):
                self.pending[dest] = Candidate(dest, self.clock() + self.quiet_s)
                upserts[dest] = None
            ticket = self.journal.append(upserts, gone - set(upserts))
        self.journal.sync(ticket)

    def deleted(self, path: str) -> None:
        """A DELETE drops what is pending at or under the path (D9, D10)."""
        with self._lock:
            self.journal.append({}, self._drop(normalize(path)))

    def released(self, root: str, infinite: bool) -> None:
        """A lock was released (UNLOCK, or expiry): the candidates it covered are due now (D6a)."""
        root = normalize(root)
        with self._lock:
            for candidate in list(self.pending.values()):
                if candidate.path == root or (infinite and _within(candidate.path, root)):
                    candidate.due = self.clock()
        self.wake()

    def event(self, method: str, path: str, dest: str | None, status: int) -> None:
        """One finished request, as the event tap saw it."""
        ok = 200 <= status < 300
        if method in ("MOVE", "COPY") and ok and dest:
            self.moved(path, dest, copy=method == "COPY")
        elif method == "DELETE" and ok:
            self.deleted(path)
        elif method == "LOCK" and status == 201:
            self.written(path)
        elif method == "PUT" and ok:
            pass  # its written() began the quiet period a moment ago
        elif method in ("PROPPATCH", "PUT", "MOVE", "COPY"):
            self.touched(path)

    def due(self) -> list[Candidate]:
        now = self.clock()
        with self._lock:
            return sorted((c for c in self.pending.values() if c.due <= now), key=lambda c: c.due)

    def next_due(self) -> float | None:
        with self._lock:
            return min((c.due for c in self.pending.values()), default=None)

    def settled(self, candidates: Iterable[Candidate]) -> None:
        """Forget candidates once settled, unless a newer write replaced one meanwhile."""
        with self._lock:
            gone = [c.path for c in candidates if self.pending.get(c.path) is c]
            for path in gone:
                del self.pending[path]
            self.journal.append({}, gone)

    def postpone(self, candidate: Candidate) -> None:
        """Settling failed (database down …): try again after another quiet period."""
        with self._lock:
            candidate.due = self.clock() + self.quiet_s

    def _under(self, root: str) -> list[Candidate]:
        exact = self.pending.get(root)
        if exact is not None:
            return [exact]  # a file: nothing can be pending under it
        return [c for c in self.pending.values() if _within(c.path, root)]

    def _drop(self, root: str) -> list[str]:
        dropped = [c.path for c in self._under(root)]
        for path in dropped:
            del self.pending[path]
        return dropped
