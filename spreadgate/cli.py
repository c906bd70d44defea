"""The ``spreadgate`` command: ``up`` runs everything; each component also runs alone."""

from __future__ import annotations

import importlib
import os
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
RET_REFUSED = 4
RET_CREDENTIALS = 5

_COMPONENTS = {"gateway": "gateway.service", "processor": "processor.service", "responder": "responder.service"}


class BadConfiguration(click.ClickException):
    """The file, the ``SPREADGATE_…`` variables or the flags have problems; all are listed."""

    exit_code = RET_CONFIG


def _load(config: Path | None, **overrides: Any) -> settings.Settings:
    try:
        return settings.load(config, overrides, os.environ)
    except settings.ConfigError as exc:
        raise BadConfiguration(str(exc)) from exc


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or Ctrl-C, for a clean stop."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _log_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--log-level", default=None, help="DEBUG, INFO, WARNING or ERROR."),
        click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
                     help="Plain lines or one JSON object per line."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        help="TOML configuration file (see config/spreadgate.toml).")(_log_options(func))


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
@_log_options
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
def spreadd(host: str, port: int, log_level: str | None, log_format: str, extra: tuple[str, ...]) -> None:
    """Run the embedded single-node Spread daemon (same as python -m spread.daemon)."""
    from spread import daemon

    level = log_level or "INFO"
    logs.setup(level, log_format, "spreadd")  # the daemon's own logging set-up then keeps this one
    sys.exit(daemon.main(["--host", host, "--port", str(port), "--log-level", level, *extra]))


def _client_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--url``, ``--user`` and ``--password`` of the commands that talk to a running gateway."""
    options = [
        click.option("--url", default="http://127.0.0.1:8080", envvar="SPREADGATE_URL", show_default=True,
                     callback=_http_url, help="The gateway's address (or SPREADGATE_URL)."),
        click.option("--user", envvar="SPREADGATE_USER", default=None,
                     help="User name, when the gateway has users (or SPREADGATE_USER)."),
        click.option("--password", envvar="SPREADGATE_PASSWORD", default=None,
                     help="Password (or SPREADGATE_PASSWORD); asked for on a terminal when missing."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _http_url(_ctx: click.Context, _param: click.Parameter, url: str) -> str:
    if not url.lower().startswith(("http://", "https://")):
        raise click.BadParameter(f"{url!r} is not an http:// or https:// address, e.g. http://127.0.0.1:8080")
    return url


def _password(user: str | None, password: str | None) -> str | None:
    if user and password is None and sys.stdin.isatty():
        return str(click.prompt(f"Password for {user}", hide_input=True, err=True))
    return password


@cli.command()
@_client_options
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="How many of the newest uploads to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the uploads and the health report as JSON.")
def status(url: str, user: str | None, password: str | None, limit: int, as_json: bool) -> None:
    """Show the recent uploads and the connected processors of a running gateway.

    Exit status: 0, 3 when no gateway answers, 5 when it refuses the credentials.
    """
    from spreadgate import status as report

    try:
        sys.exit(report.run(url, limit, as_json, sys.stdout, auth=(user, _password(user, password))))
    except report.CredentialsRefused as exc:
        raise CredentialsRefused(str(exc)) from exc
    except report.StatusError as exc:
        raise Unreachable(str(exc)) from exc


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@_client_options
@click.option("--to", default="/", metavar="FOLDER", show_default=True,
              help="Share folder to upload into; missing folders are created.")
@click.option("--jobs", type=click.IntRange(1, 64), default=4, show_default=True, help="PUTs at a time.")
@click.option("--no-wait", is_flag=True, help="Only upload, and report the HTTP results.")
@click.option("--timeout", type=click.FloatRange(min=1), default=600.0, show_default=True,
              help="Seconds to wait for the results.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON, without progress bars.")
def upload(paths: tuple[Path, ...], url: str, user: str | None, password: str | None, to: str, jobs: int,
           no_wait: bool, timeout: float, as_json: bool) -> None:
    """Upload files and folders (recursively) to a running gateway and wait until each is processed.

    Prints one row per file: its share path, state, line count, converter and
    the reason of a failure. Exit status: 0 when every file was processed, 1
    when some failed, 3 when no gateway answers, 4 when the gateway refused a
    write, 5 when it refused the credentials, 6 when results did not come in time.
    """
    from gateway.ignore import is_ignored
    from spreadgate import gatewayhttp, uploadplan
    from spreadgate import upload as uploading

    options = uploading.Options(url, to=to, jobs=jobs, wait=not no_wait, timeout_s=timeout, user=user,
                                password=_password(user, password), as_json=as_json)
    try:
        sys.exit(uploading.run(list(paths), options, is_ignored, sys.stdout, sys.stderr,
                               show_bars=sys.stderr.isatty()))
    except uploadplan.PlanError as exc:
        raise click.UsageError(str(exc)) from exc
    except gatewayhttp.GatewayError as exc:
        raise _refusal(str(exc), uploading.exit_status_for(exc)) from exc


class Unreachable(click.ClickException):
    """``spreadgate status`` could not ask the gateway."""

    exit_code = RET_UNREACHABLE


class WriteRefused(click.ClickException):
    """The gateway refused a write (``spreadgate upload``)."""

    exit_code = RET_REFUSED


class CredentialsRefused(click.ClickException):
    """The gateway refused the credentials, or asked for some."""

    exit_code = RET_CREDENTIALS


def _refusal(message: str, exit_code: int) -> click.ClickException:
    kinds = {RET_REFUSED: WriteRefused, RET_CREDENTIALS: CredentialsRefused}
    return kinds.get(exit_code, Unreachable)(message)


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
