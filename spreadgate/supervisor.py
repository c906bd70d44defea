"""``spreadgate up``: one foreground process tree running every component.

Each component runs as its own child process (``python -m spreadgate NAME``),
exactly as it would on separate hosts, so a crash of one is seen and the
component is restarted while the others keep running.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from spreadgate import db
from spreadgate.settings import Settings

log = logging.getLogger(__name__)

READY_PREFIX = "gateway ready: "
START_DEADLINE_S = 30.0
STOP_GRACE_S = 15.0
RESTART_BACKOFF_MAX_S = 10.0
RET_OK = 0
RET_START_FAILED = 3


@dataclass
class Child:
    """One supervised component process."""

    name: str
    argv: list[str]
    proc: subprocess.Popen[str] | None = None
    restarts: int = 0
    started_at: float = 0.0
    ready_url: str | None = None
    ready: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.started_at = time.monotonic()
        threading.Thread(target=self._relay, args=(self.proc,), daemon=True).start()

    def _relay(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(READY_PREFIX):
                self.ready_url = line[len(READY_PREFIX) :].strip()
                self.ready.set()
            else:
                sys.stdout.write(f"{self.name}: {line}")
                sys.stdout.flush()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Supervisor:
    """Starts the embedded daemon and the three components, restarts any that die."""

    def __init__(self, conf: Settings, config_file: Path | None, log_format: str) -> None:
        self.spread_port = conf.spread_port or free_port()
        host, port = conf.listen
        self.conf = conf.replace(
            gateway_data_dir=str(conf.data_dir.resolve()),
            gateway_listen=f"{host}:{port or free_port()}",
            spread_daemon=f"{self.spread_port}@127.0.0.1",
        )
        common = [sys.executable, "-m", "spreadgate"]
        logging_options = ["--log-format", log_format, "--log-level", self.conf.log_level]
        extra = [*logging_options, *(["--config", str(config_file)] if config_file is not None else [])]
        where = ["--spread", self.conf.spread_daemon, "--data-dir", self.conf.gateway_data_dir,
                 "--db", self.conf.db_url]
        self.daemon = Child("spreadd", [*common, "spreadd", *logging_options, "--host", "127.0.0.1",
                                        "--port", str(self.spread_port)])
        self.components = [
            Child(name, [*common, name, *extra, *where, *(["--listen", self.conf.gateway_listen]
                                                          if name == "gateway" else [])])
            for name in ("responder", "processor", "gateway")
        ]

    @property
    def children(self) -> list[Child]:
        return [self.daemon, *self.components]

    def run(self, stop: threading.Event) -> int:
        try:
            if not self._start_all():
                return RET_START_FAILED
            gateway = self.components[-1]
            print(f"spreadgate is up: {gateway.ready_url}  (WebDAV share at /, upload page at /_/)",
                  flush=True)
            while not stop.wait(0.5):
                self._restart_dead()
            return RET_OK
        finally:
            self._stop_all()

    def _start_all(self) -> bool:
        self.conf.data_dir.mkdir(parents=True, exist_ok=True)
        engine = db.make_engine(self.conf.db_url)
        db.migrate(engine)
        engine.dispose()
        self.daemon.start()
        if not wait_for_port("127.0.0.1", self.spread_port, time.monotonic() + START_DEADLINE_S):
            log.error("the embedded Spread daemon did not start on port %d", self.spread_port)
            return False
        for child in self.components:
            child.start()
        gateway = self.components[-1]
        if not gateway.ready.wait(START_DEADLINE_S) or not gateway.alive:
            log.error("the gateway did not become ready on %s", self.conf.gateway_listen)
            return False
        return True

    def _restart_dead(self) -> None:
        for child in self.children:
            if child.alive or child.proc is None:
                continue
            delay = min(2.0 ** child.restarts * 0.5, RESTART_BACKOFF_MAX_S)
            if time.monotonic() - child.started_at < delay:
                continue
            log.warning("%s exited with status %s; restarting it", child.name, child.proc.returncode)
            child.restarts += 1
            child.start()

    def _stop_all(self) -> None:
        for child in reversed(self.children):
            if child.alive and child.proc is not None:
                child.proc.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for child in reversed(self.children):
            if child.proc is None:
                continue
            try:
                child.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", child.name)
                child.proc.kill()
                child.proc.wait()
