"""``spreadgate responder``: records the results multicast on ``uploadresponses``.

Two threads: the caller's receives from Spread and spools result streams to
disk (:mod:`responder.receiver`), never waiting on the database, because the
daemon cuts off a member that stops reading; a recorder thread writes them
(:mod:`responder.recorder`), retrying while the database is unreachable.
"""

from __future__ import annotations

import logging
import shutil
import threading

from responder.receiver import Receiver
from responder.recorder import Recorder
from responder.writer import ResultWriter
from spreadgate import db, link
from spreadgate.scratch import scratch_dir
from spreadgate.settings import Settings
from spreadgate.wire import RESULT_GROUP

log = logging.getLogger(__name__)

RET_OK = 0
#: How long a stopping responder gives queued results to be written.
DRAIN_TIMEOUT_S = 30.0


def run(settings: Settings, stop: threading.Event) -> int:
    """Receive and record results until ``stop`` is set."""
    engine = db.make_engine(settings.db_url)
    db.migrate(engine)
    recorder = Recorder(ResultWriter(db.sessions(engine)), stop)
    recorder.start()
    work_dir = scratch_dir("responder")
    receiver = Receiver(work_dir, recorder.put)
    try:
        link.serve(settings.spread_daemon, "r", groups=(RESULT_GROUP,), membership=False,
                   stop=stop, handle=receiver.handle, on_connect=receiver.reset)
    finally:
        recorder.close(DRAIN_TIMEOUT_S)
        receiver.reset()
        shutil.rmtree(work_dir, ignore_errors=True)
        engine.dispose()
    log.info("responder stopped")
    return RET_OK
