"""Fixtures for the spread tests: a real embedded daemon on an ephemeral port, clients, raw sockets."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

import spread
from spread.daemon import Daemon, DaemonConfig


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    """A running daemon on 127.0.0.1:0, stopped afterwards."""
    d = Daemon(DaemonConfig(port=0)).start()
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture
def make_daemon() -> Iterator[Callable[..., Daemon]]:
    """Start daemons with config overrides; all are stopped afterwards."""
    started: list[Daemon] = []

    def make(**overrides: object) -> Daemon:
        d = Daemon(DaemonConfig(port=0, **overrides)).start()  # type: ignore[arg-type]
        started.append(d)
        return d

    yield make
    for d in started:
        d.stop()


@pytest.fixture
def connect(daemon: Daemon) -> Iterator[Callable[..., spread.Mailbox]]:
    """``connect(name, membership=1)`` to the fixture daemon; every mailbox is closed afterwards."""
    boxes: list[spread.Mailbox] = []

    def make(name: str = "", membership: int = 1, **kw: object) -> spread.Mailbox:
        box = spread.connect(daemon.address, name, 0, membership, **kw)  # type: ignore[arg-type]
        boxes.append(box)
        return box

    yield make
    for box in boxes:
        box.disconnect()
