"""The thread that settles due candidates, off every request's path (debounce rule D12)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from gateway.debounce import Candidate, Debouncer, Written

log = logging.getLogger(__name__)

# Longest sleep between looks at the clock; a change wakes the thread sooner.
IDLE_S = 1.0
# Candidates recorded in one database transaction.
BATCH = 256


class Settler(threading.Thread):
    """Hands the due candidates to ``settle([(path, written), …])``, up to :data:`BATCH` at a time;
    ``settle`` returns the paths it could not settle, and those (or all, if it raises) are
    tried again after another quiet period."""

    def __init__(self, debouncer: Debouncer,
                 settle: Callable[[Sequence[tuple[str, Written | None]]], set[str]]) -> None:
        super().__init__(name="settler", daemon=True)
        self.debouncer = debouncer
        self.settle = settle
        self._wake = threading.Event()
        self._stopping = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            due = self.debouncer.due()
            for first in range(0, len(due), BATCH):
                if self._stopping.is_set():
                    break
                self._settle(due[first:first + BATCH])
            self._wake.wait(self._sleep())

    def _settle(self, candidates: list[Candidate]) -> None:
        try:
            unreadable = self.settle([(c.path, c.written) for c in candidates])
        except Exception:
            log.exception("settling %d candidate(s) failed; they stay pending and are tried again",
                          len(candidates))
            unreadable = {c.path for c in candidates}
        for candidate in candidates:
            if candidate.path in unreadable:
                self.debouncer.postpone(candidate)
        self.debouncer.settled([c for c in candidates if c.path not in unreadable])

    def _sleep(self) -> float:
        due = self.debouncer.next_due()
        if due is None:
            return IDLE_S
        return max(0.0, min(IDLE_S, due - self.debouncer.clock()))
