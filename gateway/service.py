"""``spreadgate gateway``: the HTTP/WebDAV server and the forwarder, until told to stop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from cheroot import wsgi

from gateway.app import GatewayContext, make_app
from gateway.forwarder import Forwarder
from gateway.intake import Intake
from spreadgate import db
from spreadgate.settings import Settings

log = logging.getLogger(__name__)

RET_OK = 0
THREADS = 32


def build(settings: Settings) -> tuple[wsgi.Server, Forwarder]:
    """The server (not yet listening) and the forwarder (not yet started)."""
    engine = db.make_engine(settings.db_url)
    db.migrate(engine)
    sessions = db.sessions(engine)
    intake = Intake(settings.data_dir, sessions)
    forwarder = Forwarder(settings.spread_daemon, sessions, intake.blobs,
                          settings.gateway_retry_after_s)
    intake.on_commit = forwarder.wake
    app = make_app(GatewayContext(settings, intake, sessions, forwarder))
    server = wsgi.Server(settings.listen, app, numthreads=THREADS,
                         timeout=int(settings.gateway_request_timeout_s),
                         server_name="spreadgate")
    # cheroot answers 413 to a Content-Length above this before reading the body.
    server.max_request_body_size = settings.gateway_max_upload_mb * 1024 * 1024
    return server, forwarder


def run(settings: Settings, stop: threading.Event,
        ready: Callable[[str], None] | None = None) -> int:
    server, forwarder = build(settings)
    forwarder.start()
    server.prepare()
    host, port = server.bind_addr[:2]
    url = f"http://{host}:{port}"
    log.info("gateway listening on %s (share at /, pages at /_/)", url)
    serving = threading.Thread(target=server.serve, name="http", daemon=True)
    serving.start()
    if ready is not None:
        ready(url)
    stop.wait()
    log.info("gateway stopping")
    server.stop()
    forwarder.stop()
    forwarder.join(10)
    return RET_OK
