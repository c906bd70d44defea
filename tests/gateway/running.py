"""A real gateway for tests: ``gateway.service.assemble`` on cheroot, port 0, SQLite, a real daemon."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cheroot import wsgi
from sqlalchemy import select

from gateway.forwarder import Forwarder
from gateway.service import Gateway, assemble
from spread.daemon import Daemon
from spreadgate import db, settings
from spreadgate.models import UploadedFile

DEADLINE_S = 30.0
# The shortest quiet period the configuration allows: WebDAV writes are recorded this long after the last one.
QUIET_S = 2.0


@dataclass
class RunningGateway:
    url: str
    data_dir: Path
    server: wsgi.Server
    forwarder: Forwarder
    parts: Gateway

    @property
    def share(self) -> Path:
        return self.data_dir / "share"

    def settled(self) -> list[UploadedFile]:
        """The rows once no WebDAV write is pending any more (each has settled or been dropped)."""
        wait_until(lambda: not self.parts.settler.debouncer.pending, "pending writes to settle")
        return self.rows()

    def rows(self) -> list[UploadedFile]:
        engine = db.make_engine(f"sqlite:///{self.data_dir / 'spreadgate.db'}")
        try:
            with db.sessions(engine)() as session:
                return list(session.scalars(select(UploadedFile).order_by(UploadedFile.id)))
        finally:
            engine.dispose()


def wait_until(check: Callable[[], bool], what: str, deadline_s: float = DEADLINE_S) -> None:
    end = time.monotonic() + deadline_s
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def running_gateway(data_dir: Path, daemon: str, **overrides: object) -> Iterator[RunningGateway]:
    conf = settings.load(None, {"gateway_data_dir": str(data_dir), "gateway_listen": "127.0.0.1:0",
                                "spread_daemon": daemon, "gateway_quiet_period_s": QUIET_S,
                                **overrides})
    gateway = assemble(conf)
    gateway.start()
    thread = threading.Thread(target=gateway.server.serve, daemon=True)
    thread.start()
    host, port = gateway.server.bind_addr[:2]
    try:
        yield RunningGateway(f"http://{host}:{port}", data_dir, gateway.server, gateway.forwarder, gateway)
    finally:
        gateway.stop()
        thread.join(10)


@contextmanager
def embedded_daemon(port: int = 0) -> Iterator[Daemon]:
    daemon = Daemon(port=port).start()
    try:
        yield daemon
    finally:
        daemon.stop()
