"""``spreadgate processor``: converts the uploads it owns and multicasts the results.

The calling thread receives (:mod:`processor.receiver`); ``workers`` threads
convert (:mod:`processor.worker`), one document each at a time.  No database
is involved.  A clean stop lets each worker finish and deliver the conversion
under way; files spooled but not yet converted are dropped (the gateway sends
unanswered uploads again) and the scratch folder is removed.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading

from processor.receiver import Job, Newest, Receiver
from processor.sandbox import Limits
from processor.worker import Worker
from spreadgate.link import LinkStats
from spreadgate.scratch import scratch_dir
from spreadgate.settings import Settings

log = logging.getLogger(__name__)

RET_OK = 0
# How long a stopping worker may keep trying to deliver its last result beyond the conversion limit.
DELIVERY_GRACE_S = 10.0


def run(settings: Settings, stop: threading.Event, workers: int | None = None,
        stats: LinkStats | None = None) -> int:
    """Serve until ``stop`` is set, then stop cleanly; returns an exit status."""
    work_dir = scratch_dir("processor", settings.processor_work_dir or None)
    jobs: queue.Queue[Job | None] = queue.Queue()
    newest = Newest()
    receiver = Receiver(settings.spread_daemon, work_dir, jobs, newest, stats)
    halt = threading.Event()
    limits = Limits(settings.processor_timeout_s, settings.processor_memory_mb)
    pool = [Worker(n, settings.spread_daemon, work_dir, limits, jobs=jobs, newest=newest,
                   identity=lambda: receiver.identity, stop=stop, halt=halt)
            for n in range(1, max(1, workers or settings.processor_workers) + 1)]
    for worker in pool:
        worker.start()
    log.info("processor started with %d worker(s) in %s", len(pool), work_dir)
    try:
        receiver.run(stop)
    finally:
        stop.set()
        _stop_workers(pool, jobs, settings.processor_timeout_s + DELIVERY_GRACE_S, halt)
        shutil.rmtree(work_dir, ignore_errors=True)
    log.info("processor stopped; %d document(s) converted", sum(w.converted for w in pool))
    return RET_OK


def _stop_workers(pool: list[Worker], jobs: queue.Queue[Job | None], wait_s: float,
                  halt: threading.Event) -> None:
    for _ in pool:
        jobs.put(None)
    for worker in pool:
        worker.join(wait_s)
    halt.set()  # a worker still reconnecting to deliver gives up now
    for worker in pool:
        worker.join(DELIVERY_GRACE_S)
        if worker.is_alive():
            log.warning("%s did not stop in time", worker.name)
