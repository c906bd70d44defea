"""Embedded single-node Spread 4.4 daemon: ``Daemon`` for tests and embedding, ``main`` for the CLI."""

from spread.daemon.cli import main
from spread.daemon.config import DaemonConfig
from spread.daemon.server import Daemon

__all__ = ["Daemon", "DaemonConfig", "main"]
