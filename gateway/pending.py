"""The debouncer's pending candidates on disk, so a restart loses no accepted write.

A journal in ``<data_dir>/state``: each change appends one JSON line (a path
and what its PUT knew of the bytes, or ``"gone": true`` once it settled or
was dropped).  A new candidate is made durable before its request is
answered, with an ``fsync`` shared by the requests that wait at the same time
(:class:`gateway.groupsync.GroupSync`); a "gone" line is not waited for,
since losing one only makes a settled path look at its bytes once more at
the next start.  Appends happen in the order of the changes (the debouncer
holds its lock), so the journal never replays an older state over a newer
one.  When it has grown well past the live entries it is rewritten compactly
and atomically.  At start the candidates in it are pending again, each with
a fresh quiet period, which needs no scan of the share.  Settling re-checks
the bytes, so a stale entry costs at most one look at a file.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gateway.blobs import fsync_dir
from gateway.debounce import Written
from gateway.groupsync import GroupSync

log = logging.getLogger(__name__)

COMPACT_SLACK = 200


def _line(path: str, written: Written | None, gone: bool = False) -> str:
    entry: dict[str, Any] = {"path": path}
    if gone:
        entry["gone"] = True
    else:
        entry["written"] = None if written is None else dataclasses.asdict(written)
    return json.dumps(entry, ensure_ascii=False) + "\n"


class PendingFile:
    """``pending.jsonl``: the journal of pending candidates (path → what its PUT knew, or null).

    :meth:`append` and :meth:`load` are called by one thread at a time (the debouncer's lock);
    :meth:`sync` from any thread.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._live: dict[str, Written | None] = {}
        self._lines = 0
        self._fd = -1
        # Held while the descriptor is fsynced or replaced, so a sync never meets a closed one.
        self._swap = threading.Lock()
        self._group = GroupSync(self._fsync)

    def load(self) -> dict[str, Written | None]:
        entries: dict[str, Written | None] = {}
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        lines = text.splitlines()
        for number, line in enumerate(lines, 1):
            try:
                entry = json.loads(line)
                if entry.get("gone"):
                    entries.pop(entry["path"], None)
                else:
                    written = entry["written"]
                    entries[entry["path"]] = None if written is None else Written(**written)
            except (ValueError, KeyError, TypeError) as exc:
                # Only a write cut short by a crash can end the journal badly: it was never answered.
                log.warning("%s line %d unreadable (%s); skipped", self.path, number, exc)
        self._live, self._lines = dict(entries), len(lines)
        if text and not text.endswith("\n"):
            self._rewrite()  # a cut-short last line would swallow the next append
        return entries

    def append(self, upserts: Mapping[str, Written | None], gone: Iterable[str] = ()) -> int:
        """Write the changes (not yet durable); the ticket to pass to :meth:`sync`."""
        changes = [_line(p, w) for p, w in upserts.items()]
        changes += [_line(p, None, gone=True) for p in gone if p in self._live]
        self._live.update(upserts)
        for path in gone:
            self._live.pop(path, None)
        if not changes:
            return 0
        if self._lines + len(changes) > 2 * len(self._live) + COMPACT_SLACK:
            self._rewrite()
        else:
            data = "".join(changes).encode("utf-8")
            os.write(self._open(), data)  # O_APPEND: one write, one piece at the end
            self._lines += len(changes)
        return self._group.changed()

    def sync(self, ticket: int) -> None:
        """Return once the changes up to ``ticket`` are durable (one fsync for concurrent callers)."""
        if ticket:
            self._group.wait(ticket)

    def close(self) -> None:
        with self._swap:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def _open(self) -> int:
        if self._fd < 0:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return self._fd

    def _fsync(self) -> None:
        with self._swap:
            os.fsync(self._open())

    def _rewrite(self) -> None:
        fd, name = tempfile.mkstemp(prefix=".pending-", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(_line(p, w) for p, w in self._live.items())
            handle.flush()
            os.fsync(handle.fileno())
        with self._swap:
            os.replace(name, self.path)
            fsync_dir(self.path.parent)
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
        self._lines = len(self._live)
