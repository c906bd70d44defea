"""``spreadgate gateway``: the HTTP/WebDAV server, the settler and the forwarder, until told to stop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cheroot import wsgi

from gateway.app import GatewayContext, make_app
from gateway.auth import AnonymousRemote, check_exposure
from gateway.debounce import Debouncer
from gateway.forwarder import Forwarder
from gateway.headwatch import HeadWatch, connection_class
from gateway.intake import Intake
from gateway.locks import CappedLockStorage, property_manager
from gateway.pending import PendingFile
from gateway.settler import Settler
from gateway.sweep import sweep_temp_files
from spreadgate import db
from spreadgate.settings import Settings

log = logging.getLogger(__name__)

RET_OK = 0
RET_REFUSED = 2
RET_LISTEN = 3
THREADS = 32
JOIN_S = 10.0


@dataclass
class Gateway:
    """Every running part of the gateway, started and stopped together."""

    server: wsgi.Server
    forwarder: Forwarder
    settler: Settler
    lock_storage: CappedLockStorage
    properties: Any
    head_watch: HeadWatch

    def start(self) -> None:
        """Bind first, so that an address already in use fails (OSError) before any thread runs."""
        self.server.prepare()
        self.head_watch.start()
        self.forwarder.start()
        self.settler.start()

    def stop(self) -> None:
        """Stop serving, then the threads; pending candidates stay on disk for the next start."""
        self.server.stop()
        self.head_watch.stop()
        self.settler.stop()
        self.forwarder.stop()
        self.settler.join(JOIN_S)
        self.forwarder.join(JOIN_S)
        self.close()

    def close(self) -> None:
        """Close the lock and property stores (all that is open before :meth:`start`)."""
        self.lock_storage.close()
        self.properties._close()
        self.settler.debouncer.journal.close()


def assemble(settings: Settings) -> Gateway:
    """All parts, nothing started; raises :class:`AnonymousRemote` for an unprotected public address."""
    check_exposure(settings)
    engine = db.make_engine(settings.db_url)
    db.migrate(engine)
    sessions = db.sessions(engine)
    intake = Intake(settings.data_dir, sessions)
    sweep_temp_files(intake.share)
    forwarder = Forwarder(settings.spread_daemon, sessions, intake.blobs,
                          settings.gateway_retry_after_s, settings.groups_for)
    intake.on_commit = forwarder.wake
    state = settings.data_dir / "state"
    pending = PendingFile(state / "pending.jsonl")
    debouncer = Debouncer(settings.gateway_quiet_period_s, journal=pending)
    debouncer.restore(pending.load())
    settler = Settler(debouncer, intake.settle)
    debouncer.wake = settler.wake
    intake.on_written = debouncer.written
    locks = CappedLockStorage(state / "locks", settings.gateway_lock_timeout_max_s, debouncer.released)
    properties = property_manager(state / "props")
    app = make_app(GatewayContext(settings, intake, sessions, forwarder, debouncer, locks, properties))
    head_watch = HeadWatch()
    return Gateway(_server(settings, app, head_watch), forwarder, settler, locks, properties, head_watch)


def _server(settings: Settings, app: Any, head_watch: HeadWatch) -> wsgi.Server:
    server = wsgi.Server(settings.listen, app, numthreads=THREADS,
                         timeout=int(settings.gateway_request_timeout_s),
                         server_name="spreadgate")
    # cheroot answers 413 to a Content-Length above this before reading the body.
    server.max_request_body_size = settings.gateway_max_upload_mb * 1024 * 1024
    server.ConnectionClass = connection_class(head_watch)
    return server


def build(settings: Settings) -> tuple[wsgi.Server, Forwarder]:
    """The server (not yet listening) and the forwarder (not yet started); nothing settles WebDAV writes."""
    gateway = assemble(settings)
    return gateway.server, gateway.forwarder


def run(settings: Settings, stop: threading.Event,
        ready: Callable[[str], None] | None = None) -> int:
    try:
        gateway = assemble(settings)
    except AnonymousRemote as exc:
        log.error("%s", exc)
        return RET_REFUSED
    try:
        gateway.start()
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", *settings.listen, exc)
        gateway.close()
        return RET_LISTEN
    host, port = gateway.server.bind_addr[:2]
    url = f"http://{host}:{port}"
    log.info("gateway listening on %s (share at /, pages at /_/)", url)
    serving = threading.Thread(target=gateway.server.serve, name="http", daemon=True)
    serving.start()
    if ready is not None:
        ready(url)
    stop.wait()
    log.info("gateway stopping")
    gateway.stop()
    return RET_OK
