"""WebDAV locks and dead properties that survive a restart, with bounded lock lifetimes (D13).

WsgiDAV grants a week to a LOCK without ``Timeout`` and four weeks to
``Infinite``, and purges expired locks only lazily, so a client that never
unlocks (Finder, Office after a failed UNLOCK) would block the next save for
days.  Every lifetime here is capped; a lock asked without one gets the cap.
Releases (UNLOCK, and the purge of an expired lock) are reported, because an
UNLOCK is when Windows, Finder and davfs2 have finished a save (D6a).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wsgidav.lock_man.lock_storage import LockStorageShelve  # type: ignore[import-untyped]
from wsgidav.prop_man.property_manager import ShelvePropertyManager  # type: ignore[import-untyped]

log = logging.getLogger(__name__)


class CappedLockStorage(LockStorageShelve):  # type: ignore[misc]
    """``LockStorageShelve`` at ``<state>/locks`` whose lifetimes never exceed ``max_s``."""

    def __init__(self, storage_path: Path, max_s: int,
                 on_release: Callable[[str, bool], None] = lambda _root, _infinite: None) -> None:
        storage_path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(str(storage_path))
        self.max_s = max_s
        self.on_release = on_release

    def bounded(self, timeout: float | None) -> float:
        """``None`` (no Timeout header), ``-1`` (Infinite) and long requests all become ``max_s``."""
        if timeout is None or timeout < 0 or timeout > self.max_s:
            return float(self.max_s)
        return float(timeout)

    def create(self, path: str, lock: dict[str, Any]) -> dict[str, Any]:
        lock["timeout"] = self.bounded(lock.get("timeout"))
        return super().create(path, lock)  # type: ignore[no-any-return]

    def refresh(self, token: str, *, timeout: float | None) -> dict[str, Any]:
        return super().refresh(token, timeout=self.bounded(timeout))  # type: ignore[no-any-return]

    def delete(self, token: str) -> bool:
        lock = self._dict.get(token) if self._dict is not None else None
        deleted: bool = super().delete(token)
        if deleted and lock is not None:
            log.debug("lock on %s released", lock.get("root"))
            self.on_release(str(lock.get("root")), lock.get("depth") == "infinity")
        return deleted


def property_manager(storage_path: Path) -> Any:
    """Dead properties (Windows' Win32* timestamps among them) in a shelve at ``<state>/props``."""
    storage_path.parent.mkdir(parents=True, exist_ok=True)
    return ShelvePropertyManager(str(storage_path))
