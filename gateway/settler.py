"""The thread that settles due candidates, off every request's path (debounce rule D12)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from gateway.debounce import Debouncer, Written

log = logging.getLogger(__name__)

# Longest sleep between looks at the clock; a change wakes the thread sooner.
IDLE_S = 1.0


class Settler(threading.Thread):
    """Hands each due candidate to ``settle(path, written)``; a failure is retried later."""

    def __init__(self, debouncer: Debouncer, settle: Callable[[str, Written | None], object]) -> None:
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
            for candidate in self.debouncer.due():
                if self._stopping.is_set():
                    return
                try:
                    self.settle(candidate.path, candidate.written)
                except Exception:
                    log.exception("%s: settling failed; it stays pending and is tried again", candidate.path)
                    self.debouncer.postpone(candidate)
                else:
                    self.debouncer.settled(candidate)
            self._wake.wait(self._sleep())

    def _sleep(self) -> float:
        due = self.debouncer.next_due()
        if due is None:
            return IDLE_S
        return max(0.0, min(IDLE_S, due - self.debouncer.clock()))
