"""The debouncer's pending candidates on disk, so a restart loses no accepted write.

A journal in ``<data_dir>/state``: each change appends one JSON line (a path
and what its PUT knew of the bytes, or ``"gone": true`` once it settled or
was dropped) and is fsynced before the request is answered; one small append
per write instead of rewriting every pending entry.  When the journal has
grown well past the live entries it is rewritten compactly (atomically).  At
start the candidates in it are pending again, each with a fresh quiet period,
which needs no scan of the share.  Settling re-checks the bytes, so a stale
entry costs at most one look at a file.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from gateway.debounce import Written

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
    """``pending.jsonl``: the journal of pending candidates (path → what its PUT knew, or null)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._saved: dict[str, Written | None] = {}
        self._lines = 0

    def load(self) -> dict[str, Written | None]:
        entries: dict[str, Written | None] = {}
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return {}
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
        self._saved, self._lines = dict(entries), len(lines)
        return entries

    def save(self, pending: dict[str, Written | None]) -> None:
        changes = [_line(p, w) for p, w in pending.items() if p not in self._saved or self._saved[p] != w]
        changes += [_line(p, None, gone=True) for p in self._saved if p not in pending]
        if not changes:
            return
        if self._lines + len(changes) > 2 * len(pending) + COMPACT_SLACK:
            self._rewrite(pending)
        else:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.writelines(changes)
                handle.flush()
                os.fsync(handle.fileno())
            self._lines += len(changes)
        self._saved = dict(pending)

    def _rewrite(self, pending: dict[str, Written | None]) -> None:
        fd, name = tempfile.mkstemp(prefix=".pending-", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(_line(p, w) for p, w in pending.items())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, self.path)
        self._lines = len(pending)
