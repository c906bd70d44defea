"""The ``spreadgate`` command: ``up`` runs everything; each component also runs alone."""

from __future__ import annotations

import importlib
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from spreadgate import logs, settings

RET_OK = 0
RET_CONFIG = 2
RET_UNREACHABLE = 3

_COMPONENTS = {"gateway": "gateway.service", "processor": "processor.service", "responder": "responder.service"}


def _load(config: Path | None, **overrides: Any) -> settings.Settings:
    try:
        return settings.load(config, overrides)
    except settings.ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or Ctrl-C, for a clean stop."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="TOML configuration file (see config/spreadgate.toml)."),
        click.option("--log-level", default=None, help="DEBUG, INFO, WARNING or ERROR."),
        click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
                     help="Plain lines or one JSON object per line."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _spread_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--spread", "spread_daemon", default=None, metavar="PORT[@HOST]",
                        help="Spread daemon to use, e.g. 4803@127.0.0.1.")(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spreadgate")
def cli() -> None:
    """WebDAV and HTTP ingestion gateway over the Spread toolkit."""


@cli.command()
@_common
@click.option("--data-dir", default=None, help="Folder for documents and the SQLite file [./var].")
@click.option("--listen", default=None, metavar="HOST:PORT", help="Where the gateway listens [127.0.0.1:8080].")
@click.option("--spread-port", type=int, default=None, help="Port of the embedded Spread daemon [4803].")
@click.option("--db", "database_url", default=None, help="SQLAlchemy URL instead of SQLite in the data folder.")
def up(config: Path | None, log_level: str | None, log_format: str, data_dir: str | None,
       listen: str | None, spread_port: int | None, database_url: str | None) -> None:
    """Run the embedded Spread daemon, the gateway, a processor and the responder."""
    from spreadgate.supervisor import Supervisor

    conf = _load(config, gateway_data_dir=data_dir, gateway_listen=listen, spread_port=spread_port,
                 database_url=database_url, log_level=log_level)
    logs.setup(conf.log_level, log_format, "up")
    sys.exit(Supervisor(conf, config, log_format).run(stop_on_signals()))


def _component_command(name: str) -> None:
    @cli.command(name=name, help=f"Run the {name} alone.")
    @_common
    @_spread_option
    @click.option("--data-dir", default=None, help="Folder for documents and state.")
    @click.option("--listen", default=None, metavar="HOST:PORT", help="(gateway) where to listen.")
    @click.option("--db", "database_url", default=None, help="SQLAlchemy URL of the database.")
    def command(config: Path | None, log_level: str | None, log_format: str, spread_daemon: str | None,
                data_dir: str | None, listen: str | None, database_url: str | None) -> None:
        conf = _load(config, spread_daemon=spread_daemon, gateway_data_dir=data_dir,
                     gateway_listen=listen, database_url=database_url, log_level=log_level)
        logs.setup(conf.log_level, log_format, name)
        service = importlib.import_module(_COMPONENTS[name])
        stop = stop_on_signals()
        if name == "gateway":
            sys.exit(service.run(conf, stop, ready=_announce))
        sys.exit(service.run(conf, stop))


def _announce(url: str) -> None:
    # The supervisor of 'spreadgate up' watches stdout for this line.
    print(f"gateway ready: {url}", flush=True)


for _name in _COMPONENTS:
    _component_command(_name)


@cli.command()
@click.option("--host", default="127.0.0.1", help="Address to listen on [127.0.0.1].")
@click.option("--port", type=int, default=4803, help="TCP port [4803].")
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
def spreadd(host: str, port: int, extra: tuple[str, ...]) -> None:
    """Run the embedded single-node Spread daemon (same as python -m spread.daemon)."""
    from spread import daemon

    sys.exit(daemon.main(["--host", host, "--port", str(port), *extra]))


@cli.command()
@click.option("--url", default="http://127.0.0.1:8080", envvar="SPREADGATE_URL", show_default=True,
              help="The gateway's address (or SPREADGATE_URL).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="How many of the newest uploads to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the uploads and the health report as JSON.")
def status(url: str, limit: int, as_json: bool) -> None:
    """Show the recent uploads and the connected processors of a running gateway."""
    from spreadgate import status as report

    try:
        sys.exit(report.run(url, limit, as_json, sys.stdout))
    except report.StatusError as exc:
        raise Unreachable(str(exc)) from exc


class Unreachable(click.ClickException):
    """``spreadgate status`` could not ask the gateway."""

    exit_code = RET_UNREACHABLE


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="spreadgate", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return RET_CONFIG if isinstance(exc, click.UsageError) else exc.exit_code
    except click.exceptions.Abort:
        return 1
    return RET_OK
