"""The embedded single-node daemon: one thread, one selector, non-blocking sockets (§8, §12)."""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

from spread.daemon.config import DaemonConfig
from spread.daemon.engine import Engine
from spread.daemon.gate import Gate, Pending
from spread.daemon.listen import listen_tcp, listen_unix, proc_id
from spread.daemon.router import Router
from spread.daemon.session import Session

log = logging.getLogger(__name__)

READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE
RECV_CHUNK = 1024 * 1024
HDR = 48
BIG_FRAME = (
    32 * 1024
)  # §9: frames from this size on skip the copy through the scratch buffer
_LISTEN, _WAKE = "listen", "wake"


class Daemon:
    """A Spread daemon in-process. ``start()`` runs it in a thread; ``serve_forever()`` in this one.

    Every request is applied atomically, in the order frames are read, to every target, which
    gives the single-daemon guarantees of §8 (total order, membership sequenced with data).
    """

    def __init__(self, config: DaemonConfig | None = None, **overrides: Any) -> None:
        self.config = config if config is not None else DaemonConfig(**overrides)
        cfg = self.config
        self._sel = selectors.DefaultSelector()
        self._listeners: list[socket.socket] = []
        self._sessions: set[Session] = set()
        self._names: set[str] = set()
        self._gate = Gate(cfg, self._sel, self._names)
        self._stalled: set[Session] = set()
        self._resumed: list[Session] = []
        self._scratch = bytearray(RECV_CHUNK)
        self._mv = memoryview(self._scratch)
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.port = 0
        self.start_time = int(time.time())
        pid = proc_id(cfg.host)
        self.engine = Engine(
            lambda e: Router(pid, self.start_time, cfg.max_group_members, e.deliver),
            cfg.max_session_messages,
            cfg.max_session_bytes,
            self._congested,
        )

    @property
    def address(self) -> str:
        """The daemon string a client passes to ``spread.connect`` (TCP)."""
        return f"{self.port}@{self.config.host}"

    # --- lifecycle --------------------------------------------------------------------------
    def bind(self) -> None:
        """Open the listeners; afterwards ``port`` holds the bound TCP port."""
        if self._listeners:
            return
        tcp = listen_tcp(self.config.host, self.config.port)
        self._listeners.append(tcp)
        self.port = tcp.getsockname()[1]
        if self.config.unix_path:
            self._listeners.append(listen_unix(self.config.unix_path))
        for sock in self._listeners:
            self._sel.register(sock, READ, _LISTEN)
        self._wake_r.setblocking(False)
        self._sel.register(self._wake_r, READ, _WAKE)
        log.info(
            "spread daemon %s listening on %s:%d%s",
            self.config.name,
            self.config.host,
            self.port,
            f" and {self.config.unix_path}" if self.config.unix_path else "",
        )

    def start(self) -> Self:
        """Bind, then serve in a background thread; returns self."""
        self.bind()
        self._thread = threading.Thread(
            target=self.serve_forever, name=f"spread-daemon-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Ask the loop to stop (safe from other threads and signal handlers)."""
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop and wait for the serving thread."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Run the event loop until ``request_stop``."""
        self.bind()
        try:
            while not self._stopping:
                self._step()
        finally:
            self._close_all()

    # --- event loop -------------------------------------------------------------------------
    def _step(self) -> None:
        for key, mask in self._sel.select(self._timeout()):
            obj = key.data
            if isinstance(obj, Session):
                if mask & WRITE and not obj.dead:
                    self._flush(obj)
                if mask & READ and not obj.dead and not obj.paused:
                    self._read(obj)
            elif isinstance(obj, Pending):
                if accepted := self._gate.handshake(obj):
                    self._promote(accepted)
            elif obj == _LISTEN:
                self._gate.accept(key.fileobj, len(self._sessions))  # type: ignore[arg-type]
            else:
                with contextlib.suppress(OSError):
                    self._wake_r.recv(4096)
            self._kill_doomed()
        self._flush_dirty()
        self._run_resumed()
        self._check_timers()
        self._flush_dirty()

    def _timeout(self) -> float | None:
        if self._resumed:
            return 0.0
        deadlines = self._gate.deadlines()
        deadlines += [
            s.stall_deadline for s in self._stalled if s.stall_deadline is not None
        ]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _read(self, s: Session) -> None:
        """One recv; big frames are read straight into a buffer of their own size."""
        big = s.big
        try:
            if big is not None:
                with memoryview(big) as whole, whole[s.bigpos :] as rest:
                    n = s.sock.recv_into(rest)
            else:
                size = HDR if s.bigmode and not s.inbuf else RECV_CHUNK
                n = s.sock.recv_into(self._scratch, size)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.engine.doom(s, f"read failed: {exc}")
            return
        if n == 0:
            self.engine.doom(s, "closed the connection")
            return
        if big is not None:
            s.bigpos += n
            if s.bigpos < len(big):
                return
            s.big, s.inbuf = None, big
            self._run_input(s)
        else:
            s.inbuf += self._mv[:n]
            self._run_input(s)
            s.bigmode = s.need >= BIG_FRAME
            if s.bigmode and not s.dead:
                s.big = bytearray(s.need)
                s.bigpos = len(s.inbuf)
                s.big[: s.bigpos] = s.inbuf
                s.inbuf = bytearray()
        if s.paused and not s.dead:
            self._update_events(s)

    def _run_input(self, s: Session) -> None:
        engine = self.engine
        while True:
            engine.process_input(s)
            if not engine.doomed:
                return
            self._kill_doomed()
            if s.dead or s.paused:
                return

    # --- output and flow control ------------------------------------------------------------
    def _flush(self, s: Session) -> None:
        try:
            s.flush()
        except OSError as exc:
            self.engine.doom(s, f"write failed: {exc}")
            return
        if (
            s.stall_deadline is not None
            and s.outcount <= self.config.max_session_messages // 2
            and s.outbytes <= self.config.max_session_bytes // 2
        ):
            self._unstall(s)
        self._update_events(s)

    def _flush_dirty(self) -> None:
        dirty = self.engine.dirty
        while dirty:
            batch = dirty[:]
            dirty.clear()
            for s in batch:
                s.dirty = False
                if not s.dead:
                    self._flush(s)
            self._kill_doomed()

    def _update_events(self, s: Session) -> None:
        want = (0 if s.paused else READ) | (WRITE if s.outq else 0)
        if want == s.events or s.dead:
            return
        if s.events == 0:
            self._sel.register(s.sock, want, s)
        elif want == 0:
            self._sel.unregister(s.sock)
        else:
            self._sel.modify(s.sock, want, s)
        s.events = want

    def _congested(self, target: Session, sender: Session | None) -> None:
        """A queue is over its limits (§6.2): flush, then pause the sender or kill the target."""
        self._flush(target)
        cfg = self.config
        m, b = target.outcount, target.outbytes
        if target.dead or (
            m <= cfg.max_session_messages and b <= cfg.max_session_bytes
        ):
            return
        if (
            cfg.slow_reader_grace <= 0
            or m > 2 * cfg.max_session_messages
            or b > 2 * cfg.max_session_bytes
        ):
            self.engine.doom(target, f"slow reader: {m} messages, {b} bytes queued")
            return
        if target.stall_deadline is None:
            target.stall_deadline = time.monotonic() + cfg.slow_reader_grace
            self._stalled.add(target)
        if sender is not None and not sender.dead:
            sender.paused = True
            target.waiters.add(sender)

    def _unstall(self, t: Session) -> None:
        t.stall_deadline = None
        self._stalled.discard(t)
        for w in t.waiters:
            if w.paused and not w.dead:
                w.paused = False
                self._resumed.append(w)
        t.waiters.clear()

    def _run_resumed(self) -> None:
        while self._resumed:
            s = self._resumed.pop(0)
            if s.dead or s.paused:
                continue
            self._update_events(s)
            self._run_input(s)
            self._kill_doomed()
            if s.paused and not s.dead:
                self._update_events(s)

    def _check_timers(self) -> None:
        now = time.monotonic()
        self._gate.expire(now)
        for t in [
            t
            for t in self._stalled
            if t.stall_deadline is not None and t.stall_deadline <= now
        ]:
            self.engine.doom(
                t,
                f"slow reader: {t.outcount} messages queued for "
                f"{self.config.slow_reader_grace} s",
            )
        self._kill_doomed()

    # --- killing (§7.5) ---------------------------------------------------------------------
    def _kill_doomed(self) -> None:
        doomed = self.engine.doomed
        while doomed:
            s, reason = doomed.pop(0)
            self._kill(s, reason)

    def _kill(self, s: Session, reason: str) -> None:
        if s.dead:
            return
        s.dead = True
        level = (
            logging.DEBUG if "KILL" in reason or "closed" in reason else logging.WARNING
        )
        log.log(level, "session %s from %s ended: %s", s.private_group, s.peer, reason)
        if s.events:
            self._sel.unregister(s.sock)
            s.events = 0
        s.sock.close()
        s.drop_output()
        self._sessions.discard(s)
        self._names.discard(s.name)
        self._unstall(s)
        for t in self._stalled:
            t.waiters.discard(s)
        self.engine.router.remove_session(s)

    def _promote(self, p: Pending) -> None:
        s = Session(p.sock, p.hs.name, self.config.name, p.hs.membership, p.peer)
        self._sessions.add(s)
        self.engine.router.add_session(s)
        self._update_events(s)
        log.debug("session %s from %s accepted", s.private_group, s.peer)
        if p.hs.leftover:
            s.inbuf += p.hs.leftover
            self._run_input(s)

    def _close_all(self) -> None:
        for s in list(self._sessions):
            s.dead = True
            s.sock.close()
        self._gate.close_all()
        for sock in self._listeners:
            sock.close()
        self._sessions.clear()
        self._listeners.clear()
        self._sel.close()
        if self.config.unix_path:
            with contextlib.suppress(OSError):
                os.unlink(self.config.unix_path)
        self._wake_r.close()
        self._wake_w.close()
        log.info("spread daemon on port %d stopped", self.port)
