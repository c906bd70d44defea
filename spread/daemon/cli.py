"""``python -m spread.daemon``: run the embedded daemon in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import Any

from spread import constants as c
from spread.daemon.config import LOOPBACK_ONLY, DaemonConfig
from spread.daemon.server import Daemon
from spread.errors import DaemonConfigError

log = logging.getLogger(__name__)

RET_OK = 0
RET_CONFIG = 2
RET_BIND = 3

# (flags, keyword arguments for add_argument)
ARGUMENTS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (("--host",), {"default": "127.0.0.1", "help": "address to listen on [127.0.0.1]"}),
    (
        ("--port",),
        {
            "type": int,
            "default": c.DEFAULT_SPREAD_PORT,
            "help": "TCP port, 0 = ephemeral [4803]",
        },
    ),
    (
        ("--name",),
        {
            "default": "localhost",
            "help": "daemon name in private groups, <= 19 chars [localhost]",
        },
    ),
    (
        ("--unix",),
        {"metavar": "PATH", "help": "Unix socket path [/tmp/<port> when port != 0]"},
    ),
    (
        ("--no-unix",),
        {"action": "store_true", "help": "do not listen on a Unix socket"},
    ),
    (
        ("--allow",),
        {
            "action": "append",
            "metavar": "CIDR",
            "help": "allowed TCP client network, repeatable [127.0.0.0/8 and ::1]",
        },
    ),
    (
        ("--max-session-messages",),
        {
            "type": int,
            "default": c.MAX_SESSION_MESSAGES,
            "help": "queued messages that make a session a slow reader [1000]",
        },
    ),
    (
        ("--max-session-bytes",),
        {
            "type": int,
            "default": 64 * 1024 * 1024,
            "help": "queued bytes that make a session a slow reader [64 MiB]",
        },
    ),
    (
        ("--slow-reader-grace",),
        {
            "type": float,
            "default": 1.0,
            "help": "seconds a slow reader may take to drain, 0 = kill at once [1.0]",
        },
    ),
    (("--log-level",), {"default": "INFO", "help": "DEBUG, INFO, WARNING, ... [INFO]"}),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line, declared by ARGUMENTS."""
    parser = argparse.ArgumentParser(
        prog="python -m spread.daemon", description=__doc__
    )
    for flags, kwargs in ARGUMENTS:
        parser.add_argument(*flags, **kwargs)
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> DaemonConfig:
    """The DaemonConfig for parsed arguments."""
    unix = (
        None
        if args.no_unix
        else args.unix or (f"/tmp/{args.port}" if args.port else None)
    )
    return DaemonConfig(
        host=args.host,
        port=args.port,
        name=args.name,
        unix_path=unix,
        allow=tuple(args.allow) if args.allow else LOOPBACK_ONLY,
        max_session_messages=args.max_session_messages,
        max_session_bytes=args.max_session_bytes,
        slow_reader_grace=args.slow_reader_grace,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns RET_OK, RET_CONFIG or RET_BIND."""
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        daemon = Daemon(config_from(args))
        daemon.bind()
    except DaemonConfigError as exc:
        log.error("%s", exc.text)
        return RET_CONFIG
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", args.host, args.port, exc)
        return RET_BIND
    if args.allow is None and args.host not in ("127.0.0.1", "::1", "localhost"):
        log.warning(
            "listening on %s but only loopback clients are allowed; use --allow",
            args.host,
        )
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: daemon.request_stop())
    print(f"spread daemon ready on {daemon.address}", flush=True)
    daemon.serve_forever()
    return RET_OK
