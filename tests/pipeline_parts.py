"""Helpers for tests that play one side of the Spread conversation against a real component."""

from __future__ import annotations

import hashlib
import io
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import spread
from spreadgate import settings
from spreadgate.settings import Settings
from spreadgate.wire import (
    RESULT_GROUP,
    UPLOAD_GROUP,
    Envelope,
    FileHeader,
    Kind,
    ResultHeader,
    chunk_count,
    stream,
)

DEADLINE_S = 30.0


def conf(daemon: str, **overrides: object) -> Settings:
    return settings.load(None, {"spread_daemon": daemon, **overrides})


@contextmanager
def component(run: Callable[[Settings, threading.Event], int], conf: Settings) -> Iterator[threading.Thread]:
    """Run a component's ``run`` in a thread until the block ends."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(conf, stop), daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive(), "the component did not stop"


def wait_for_members(mbox: spread.Mailbox, group: str, count: int) -> None:
    """Join ``group`` with ``mbox`` (a membership session) and wait until it has ``count`` members."""
    mbox.join(group)
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        msg = mbox.receive(timeout=DEADLINE_S)
        if isinstance(msg, spread.MembershipMsgType) and msg.group == group and len(msg.members) >= count:
            return
    raise AssertionError(f"{group} never had {count} members")


def file_stream(upload_id: int, data: bytes, name: str = "doc.doc", attempt: int = 1) -> Iterator[Envelope]:
    """The messages a gateway sends for ``data``: the file header, then its chunks."""
    header = FileHeader(f"/{name}", name, "application/msword", len(data),
                        hashlib.sha256(data).hexdigest(), chunk_count(len(data)))
    return stream(Kind.FILE, Kind.FILE_CHUNK, upload_id, attempt, header, io.BytesIO(data))


def send_file(mbox: spread.Mailbox, upload_id: int, data: bytes, name: str = "doc.doc",
              attempt: int = 1) -> None:
    for env in file_stream(upload_id, data, name, attempt):
        mbox.multicast(spread.AGREED_MESS, UPLOAD_GROUP, env.encode(), int(env.kind))


def send_result(mbox: spread.Mailbox, upload_id: int, sha256: str, text: str | None,
                error: str | None = None, attempt: int = 1) -> None:
    raw = (text or "").encode()
    header = ResultHeader(text is not None, "antiword" if text is not None else None, 10, sha256,
                          raw.count(b"\n") if text is not None else None, len(raw),
                          hashlib.sha256(raw).hexdigest(), error, 5, "#p1#localhost", chunk_count(len(raw)))
    for env in stream(Kind.RESULT, Kind.TEXT_CHUNK, upload_id, attempt, header, io.BytesIO(raw)):
        mbox.multicast(spread.AGREED_MESS, RESULT_GROUP, env.encode(), int(env.kind))


class ResultReader:
    """Reads result streams from a mailbox joined to uploadresponses; streams may interleave."""

    def __init__(self, mbox: spread.Mailbox) -> None:
        self.mbox = mbox
        self.open: dict[tuple[str, int], tuple[Envelope, ResultHeader, bytearray]] = {}

    def next(self, deadline_s: float = DEADLINE_S) -> tuple[Envelope, ResultHeader, bytes]:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            msg = self.mbox.receive(timeout=max(0.1, end - time.monotonic()))
            if not isinstance(msg, spread.RegularMsgType):
                continue
            env = Envelope.decode(msg.message)
            key = (msg.sender, env.upload_id)
            if env.kind == Kind.RESULT:
                self.open[key] = (env, ResultHeader.from_json(env.json()), bytearray())
            elif key in self.open:
                self.open[key][2].extend(env.body)
            if env.last and key in self.open:
                head, header, text = self.open.pop(key)
                return head, header, bytes(text)
        raise AssertionError("no result arrived")


def receive_result(mbox: spread.Mailbox, deadline_s: float = DEADLINE_S) -> tuple[Envelope, ResultHeader, bytes]:
    """The next whole result stream seen by ``mbox``, when only one stream is expected at a time."""
    return ResultReader(mbox).next(deadline_s)


def corpus_bytes(corpus: Path, name: str) -> bytes:
    return (corpus / name).read_bytes()
