"""The debouncer's pending candidates on disk, so a restart loses no accepted write.

A small JSON file in ``<data_dir>/state``, replaced atomically on every
change; at start the candidates in it are pending again (each with a fresh
quiet period), which needs no scan of the share.  Settling re-checks the
bytes, so a stale entry costs at most one look at a file.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from pathlib import Path

from gateway.debounce import Written

log = logging.getLogger(__name__)


class PendingFile:
    """``pending.json``: path → what its PUT knew of the bytes (or null)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def load(self) -> dict[str, Written | None]:
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            # The file is replaced atomically, so this is damage from outside: say so, keep going.
            log.error("pending candidates in %s unreadable (%s); they are not recovered", self.path, exc)
            return {}
        return {path: None if entry is None else Written(**entry) for path, entry in entries.items()}

    def save(self, pending: dict[str, Written | None]) -> None:
        entries = {path: None if w is None else dataclasses.asdict(w) for path, w in pending.items()}
        fd, name = tempfile.mkstemp(prefix=".pending-", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(entries, handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, self.path)
