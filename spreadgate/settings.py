"""Declared configuration: one TOML file, validated whole, overridden by the environment and flags.

Every key is listed in :data:`SCHEMA` (section, key, type, default, meaning);
``config/spreadgate.toml`` is the commented sample.  Unknown sections or keys,
values of the wrong type and values out of range are errors, all reported at
once, each naming where the value came from.  The one open-ended section is
``[users]``: a table per user (see :class:`User`).

Values are taken in this order, each overriding the one before: the default,
the file, the environment variable ``SPREADGATE_<SECTION>_<KEY>`` (see
:func:`env_name`; for secrets such as ``SPREADGATE_DATABASE_URL``, the
database URL with its password), and the command-line flags.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from spreadgate.wire import UPLOAD_GROUP


class ConfigError(Exception):
    """The configuration has problems; ``problems`` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Key:
    section: str
    name: str
    type: type
    default: Any
    help: str


SCHEMA: tuple[Key, ...] = (
    Key("gateway", "listen", str, "127.0.0.1:8080", "HOST:PORT the gateway serves HTTP and WebDAV on"),
    Key("gateway", "data_dir", str, "./var", "folder for stored documents, the SQLite file and state"),
    Key("gateway", "max_upload_mb", int, 0, "largest accepted upload in MiB; 0 = no limit"),
    Key("gateway", "retry_after_s", float, 120.0, "send an unanswered upload again after this long"),
    Key("gateway", "request_timeout_s", float, 300.0, "socket inactivity allowed within one request"),
    Key("gateway", "quiet_period_s", float, 5.0,
        "a saved document is forwarded after this long with no writes to it (2 to 30)"),
    Key("gateway", "lock_timeout_max_s", int, 1800,
        "longest WebDAV lock granted, and the lifetime of a lock asked without a timeout"),
    Key("gateway", "allow_anonymous_remote", bool, False,
        "serve without [users] on a non-loopback address (anyone who can connect may write)"),
    Key("spread", "daemon", str, "4803@127.0.0.1", "Spread daemon as PORT@HOST (or PORT for the local one)"),
    Key("spread", "port", int, 4803, "port of the embedded daemon started by 'spreadgate up' (0 = any free port)"),
    Key("database", "url", str, "", "SQLAlchemy URL; empty = SQLite file in data_dir"),
    Key("processor", "timeout_s", float, 60.0, "longest a converter may run on one document"),
    Key("processor", "memory_mb", int, 1024, "address-space limit of a converter process"),
    Key("processor", "work_dir", str, "", "temporary folder for documents; empty = system default"),
    Key("processor", "workers", int, 1, "documents one processor converts at once"),
    Key("log", "level", str, "INFO", "DEBUG, INFO, WARNING or ERROR"),
)


QUIET_PERIOD_RANGE_S = (2.0, 30.0)
ENV_PREFIX = "SPREADGATE_"
_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True,
             "false": False, "0": False, "no": False, "off": False}
# PORT or PORT@HOST, as Spread names a daemon.
_DAEMON = re.compile(r"(\d{1,5})(@\S+)?")
USER_KEYS = {"password_hash": str, "read_only": bool}
# HA1 of HTTP Digest (RFC 7616, MD5): md5("name:spreadgate:password"); see gateway.auth.
_HASH = re.compile(r"digest-ha1:[0-9a-f]{32}")
# A Spread group name: 1 to 31 bytes from 0x24 to 0x7E ('#', 0x23, marks private groups).
_GROUP = re.compile(r"[\x24-\x7e]{1,31}")


@dataclass(frozen=True)
class User:
    """One ``[users.<name>]`` table: who may sign in, and whether they may only read."""

    name: str
    password_hash: str
    read_only: bool = False


@dataclass(frozen=True)
class Settings:
    """Every configuration value, typed; built by :func:`load`."""

    gateway_listen: str
    gateway_data_dir: str
    gateway_max_upload_mb: int
    gateway_retry_after_s: float
    gateway_request_timeout_s: float
    gateway_quiet_period_s: float
    gateway_lock_timeout_max_s: int
    gateway_allow_anonymous_remote: bool
    spread_daemon: str
    spread_port: int
    database_url: str
    processor_timeout_s: float
    processor_memory_mb: int
    processor_work_dir: str
    processor_workers: int
    log_level: str
    users: tuple[User, ...] = ()
    routes: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def groups_for(self, share_path: str) -> tuple[str, ...]:
        """The Spread groups an upload at ``share_path`` goes to: the converters' group,
        plus the groups of every ``[routes]`` prefix it falls under (fan-out)."""
        groups = [UPLOAD_GROUP]
        for prefix, extra in self.routes:
            if share_path.startswith(prefix):
                groups += [g for g in extra if g not in groups]
        return tuple(groups)

    @property
    def data_dir(self) -> Path:
        return Path(self.gateway_data_dir)

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'spreadgate.db').resolve()}"

    @property
    def listen(self) -> tuple[str, int]:
        host, _, port = self.gateway_listen.rpartition(":")
        return host.strip("[]"), int(port)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def env_name(key: Key) -> str:
    """The environment variable that sets ``key``: ``[database] url`` is ``SPREADGATE_DATABASE_URL``."""
    return f"{ENV_PREFIX}{key.section}_{key.name}".upper()


def load(path: str | Path | None = None, overrides: dict[str, Any] | None = None,
         environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``path`` (if any), then ``environ`` (the ``SPREADGATE_…`` variables of :func:`env_name`),
    apply ``overrides`` (``section_key`` names, or ``users``), validate.

    A ``users`` override is a mapping shaped like the file's section:
    ``{"alice": {"password_hash": "digest-ha1:…", "read_only": False}}``.
    """
    values: dict[str, Any] = {f"{k.section}_{k.name}": k.default for k in SCHEMA}
    values["users"] = {}
    values["routes"] = {}
    labels = {f"{k.section}_{k.name}": f"[{k.section}] {k.name}" for k in SCHEMA}
    origins = dict(labels)  # where each value came from, for the problems
    problems: list[str] = []
    if path is not None:
        problems += _read_file(Path(path), values, origins)
    problems += _read_environment(environ or {}, values, origins)
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = value
            if name in labels:
                origins[name] = f"command line: {labels[name]}"
    problems += _check(values, origins)
    users, user_problems = _users(values.pop("users"), f"{path}: [users]" if path else "[users]")
    problems += user_problems
    routes, route_problems = _routes(values.pop("routes"), f"{path}: [routes]" if path else "[routes]")
    problems += route_problems
    if problems:
        raise ConfigError(problems)
    return Settings(**values, users=users, routes=routes)


def _routes(table: Any, where: str) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], list[str]]:
    """``[routes]``: share-path prefix = [extra Spread groups] (group names as Spread allows)."""
    if isinstance(table, tuple):
        return table, []
    routes, problems = [], []
    for prefix, groups in table.items():
        if not prefix.startswith("/"):
            problems.append(f"{where} {prefix!r}: a route is a share path starting with /")
        elif not isinstance(groups, list) or not all(isinstance(g, str) and _GROUP.fullmatch(g)
                                                     for g in groups):
            problems.append(f"{where} {prefix!r}: expected a list of Spread group names "
                            "(1 to 31 characters from $ to ~, no #)")
        else:
            routes.append((prefix, tuple(groups)))
    return tuple(routes), problems


def _users(table: Any, where: str) -> tuple[tuple[User, ...], list[str]]:
    if isinstance(table, tuple):
        return table, []
    if not isinstance(table, dict):
        return (), [f"{where}: expected a table of users"]
    users, problems = [], []
    for name, entry in table.items():
        if not isinstance(entry, dict):
            problems.append(f"{where} {name}: expected a table with password_hash")
            continue
        problems += [f"{where} {name}.{key}: unknown key" for key in entry if key not in USER_KEYS]
        problems += [f"{where} {name}.{key}: expected {kind.__name__}, got {entry[key]!r}"
                     for key, kind in USER_KEYS.items() if key in entry and not _is_type(entry[key], kind)]
        if not _HASH.fullmatch(str(entry.get("password_hash", ""))):
            problems.append(f"{where} {name}.password_hash: expected 'digest-ha1:<32 hex digits>' "
                            "(make one with: python -m gateway.auth NAME)")
        users.append(User(str(name), str(entry.get("password_hash")), entry.get("read_only") is True))
    return tuple(users), problems


def _read_environment(environ: Mapping[str, str], values: dict[str, Any], origins: dict[str, str]) -> list[str]:
    """Schema keys set by ``SPREADGATE_<SECTION>_<KEY>`` variables; other variables are not looked at."""
    problems = []
    for key in SCHEMA:
        variable = env_name(key)
        if variable not in environ:
            continue
        name, where = f"{key.section}_{key.name}", f"environment {variable}: [{key.section}] {key.name}"
        try:
            values[name] = _from_text(environ[variable], key.type)
            origins[name] = where
        except ValueError:
            problems.append(f"{where}: expected {key.type.__name__}, got {environ[variable]!r}")
    return problems


def _from_text(text: str, wanted: type) -> Any:
    if wanted is bool:
        if text.strip().lower() not in _BOOLEANS:
            raise ValueError(text)
        return _BOOLEANS[text.strip().lower()]
    return wanted(text)


def _read_file(path: Path, values: dict[str, Any], origins: dict[str, str]) -> list[str]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return [f"{path}: {exc}"]
    known = {(k.section, k.name): k for k in SCHEMA}
    problems = []
    for section, table in document.items():
        if section in ("users", "routes"):
            values[section] = table
            continue
        if not isinstance(table, dict) or section not in {k.section for k in SCHEMA}:
            problems.append(f"{path}: [{section}]: unknown section")
            continue
        for name, value in table.items():
            key = known.get((section, name))
            if key is None:
                problems.append(f"{path}: [{section}] {name}: unknown key")
            elif not _is_type(value, key.type):
                problems.append(f"{path}: [{section}] {name}: expected {key.type.__name__}, got {value!r}")
            else:
                values[f"{section}_{name}"] = key.type(value)
                origins[f"{section}_{name}"] = f"{path}: [{section}] {name}"
    return problems


def _is_type(value: Any, wanted: type) -> bool:
    if wanted is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, wanted) and not (wanted is int and isinstance(value, bool))


def _check(values: dict[str, Any], origins: dict[str, str]) -> list[str]:
    """Values of the right type that are still unusable, each named by where it came from."""
    problems = []

    def bad(name: str, why: str) -> None:
        problems.append(f"{origins[name]}: {why}")

    host, sep, port = str(values["gateway_listen"]).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        bad("gateway_listen", f"expected HOST:PORT, got {values['gateway_listen']!r}")
    if not str(values["gateway_data_dir"]).strip():
        bad("gateway_data_dir", "must name a folder")
    if str(values["log_level"]).upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        bad("log_level", f"unknown level {values['log_level']!r}")
    for name in ("gateway_retry_after_s", "gateway_request_timeout_s", "processor_timeout_s",
                 "processor_memory_mb", "processor_workers", "gateway_lock_timeout_max_s"):
        if values[name] <= 0:
            bad(name, f"must be positive, got {values[name]!r}")
    if values["gateway_max_upload_mb"] < 0:
        bad("gateway_max_upload_mb", f"must be 0 (no limit) or more, got {values['gateway_max_upload_mb']!r}")
    low, high = QUIET_PERIOD_RANGE_S
    if not low <= values["gateway_quiet_period_s"] <= high:
        bad("gateway_quiet_period_s", f"must be between {low:g} and {high:g} seconds, "
                                      f"got {values['gateway_quiet_period_s']!r}")
    daemon = _DAEMON.fullmatch(str(values["spread_daemon"]))
    if daemon is None or not 0 < int(daemon[1]) < 65536:
        bad("spread_daemon", f"expected PORT or PORT@HOST, got {values['spread_daemon']!r}")
    if not 0 <= values["spread_port"] < 65536:
        bad("spread_port", f"expected a TCP port (0 for any free one), got {values['spread_port']!r}")
    if values["database_url"]:
        try:
            make_url(values["database_url"])
        except ArgumentError:
            # Not the value itself: a database URL may hold a password.
            bad("database_url", "not a SQLAlchemy URL (dialect+driver://user:password@host/database)")
    return problems
