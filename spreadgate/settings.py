"""Declared configuration: one TOML file, validated whole, overridden by flags.

Every key is listed in :data:`SCHEMA` (section, key, type, default, meaning);
``config/spreadgate.toml`` is the commented sample.  Unknown sections or keys
and values of the wrong type are errors, all reported at once.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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
    Key("spread", "daemon", str, "4803@127.0.0.1", "Spread daemon as PORT@HOST (or PORT for the local one)"),
    Key("spread", "port", int, 4803, "port of the embedded daemon started by 'spreadgate up'"),
    Key("database", "url", str, "", "SQLAlchemy URL; empty = SQLite file in data_dir"),
    Key("processor", "timeout_s", float, 60.0, "longest a converter may run on one document"),
    Key("processor", "memory_mb", int, 1024, "address-space limit of a converter process"),
    Key("processor", "work_dir", str, "", "temporary folder for documents; empty = system default"),
    Key("log", "level", str, "INFO", "DEBUG, INFO, WARNING or ERROR"),
)


@dataclass(frozen=True)
class Settings:
    """Every configuration value, typed; built by :func:`load`."""

    gateway_listen: str
    gateway_data_dir: str
    gateway_max_upload_mb: int
    gateway_retry_after_s: float
    gateway_request_timeout_s: float
    spread_daemon: str
    spread_port: int
    database_url: str
    processor_timeout_s: float
    processor_memory_mb: int
    processor_work_dir: str
    log_level: str

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


def load(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Read ``path`` (if any), apply ``overrides`` (``section_key`` names), validate."""
    values = {f"{k.section}_{k.name}": k.default for k in SCHEMA}
    problems: list[str] = []
    if path is not None:
        problems += _read_file(Path(path), values)
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = value
    problems += _check(values)
    if problems:
        raise ConfigError(problems)
    return Settings(**values)


def _read_file(path: Path, values: dict[str, Any]) -> list[str]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return [f"{path}: {exc}"]
    known = {(k.section, k.name): k for k in SCHEMA}
    problems = []
    for section, table in document.items():
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
    return problems


def _is_type(value: Any, wanted: type) -> bool:
    if wanted is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, wanted) and not (wanted is int and isinstance(value, bool))


def _check(values: dict[str, Any]) -> list[str]:
    problems = []
    host, sep, port = str(values["gateway_listen"]).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        problems.append(f"[gateway] listen: expected HOST:PORT, got {values['gateway_listen']!r}")
    if values["log_level"].upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append(f"[log] level: unknown level {values['log_level']!r}")
    for name in ("gateway_retry_after_s", "processor_timeout_s", "processor_memory_mb"):
        if values[name] <= 0:
            problems.append(f"{name}: must be positive")
    return problems
