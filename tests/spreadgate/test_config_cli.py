"""The real ``spreadgate`` command with a broken configuration, and with its secrets in the environment."""

from __future__ import annotations

import configparser
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spreadgate.supervisor import free_port

BROKEN = """\
[gateway]
data_dir = "{data_dir}"
listen = "127.0.0.1:{port}"
lissen = "0.0.0.0:80"
quiet_period_s = 60

[processor]
workers = "two"

[spread]
daemon = "localhost"

[log]
level = "CHATTY"

[metrics]
enabled = true
"""


# The installed console script, as an operator or a service unit runs it.
SPREADGATE = str(Path(sys.executable).with_name("spreadgate"))


def spreadgate(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([SPREADGATE, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("command", ["up", "gateway", "processor", "responder"])
def test_a_broken_configuration_is_reported_whole_and_nothing_starts(tmp_path: Path, command: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(BROKEN.format(data_dir=tmp_path / "var", port=free_port()))
    proc = spreadgate(command, "--config", str(config),
                      env={"SPREADGATE_DATABASE_URL": "s3cret@db.example.net"})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    for problem in (
        f"{config}: [gateway] lissen: unknown key",
        f"{config}: [gateway] quiet_period_s: must be between 2 and 30 seconds, got 60.0",
        f"{config}: [processor] workers: expected int, got 'two'",
        f"{config}: [spread] daemon: expected PORT or PORT@HOST, got 'localhost'",
        f"{config}: [log] level: unknown level 'CHATTY'",
        f"{config}: [metrics]: unknown section",
        "environment SPREADGATE_DATABASE_URL: [database] url: not a SQLAlchemy URL",
    ):
        assert problem in err, err
    assert "s3cret" not in err
    assert not (tmp_path / "var").exists()


def test_a_component_takes_its_database_url_from_the_environment(tmp_path: Path) -> None:
    database = tmp_path / "from-env.db"
    # No daemon listens on this port: the responder prepares its database first, then keeps retrying Spread.
    proc = spreadgate("responder", "--spread", f"{free_port()}@127.0.0.1",
                      env={"SPREADGATE_DATABASE_URL": f"sqlite:///{database}"})
    try:
        deadline = time.monotonic() + 60
        while not _has_table(database, "uploaded_files"):
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the responder never created its tables"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err


def _has_table(database: Path, table: str) -> bool:
    if not database.exists():
        return False
    with sqlite3.connect(database) as conn:
        found = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        return found.fetchone() is not None


UNITS = Path(__file__).parents[2] / "config" / "systemd"
INSTALLED = "/opt/spreadgate/bin/spreadgate"


@pytest.mark.parametrize("component", ["gateway", "processor", "responder"])
def test_each_service_unit_runs_its_component_with_the_installed_configuration(component: str) -> None:
    unit = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",), strict=True)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(UNITS / f"spreadgate-{component}.service")
    service = unit["Service"]
    command, *args = service["ExecStart"].split()
    assert (command, args) == (INSTALLED, [component, "--config", "/etc/spreadgate/spreadgate.toml"])
    assert service["EnvironmentFile"] == "-/etc/spreadgate/secrets.env"
    assert (service["User"], service["Restart"], service["RestartPreventExitStatus"]) == (
        "spreadgate", "on-failure", "2")
    assert (service["NoNewPrivileges"], service["ProtectSystem"]) == ("yes", "strict")
    if component != "processor":  # the processor stores nothing
        assert service["ReadWritePaths"] == service["WorkingDirectory"] == "/var/lib/spreadgate"
    # The real command knows the subcommand and the option the unit gives it.
    help_text = subprocess.run([SPREADGATE, component, "--help"], capture_output=True, text=True,
                               timeout=60, check=True).stdout
    assert "--config" in help_text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_service_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    # A root of its own, so that the units' /opt/spreadgate/bin/spreadgate exists without installing it.
    installed = tmp_path / INSTALLED.lstrip("/")
    installed.parent.mkdir(parents=True)
    shutil.copy(SPREADGATE, installed)
    shutil.copytree("/usr/lib/systemd/system", tmp_path / "usr/lib/systemd/system", symlinks=True)
    target = tmp_path / "etc/systemd/system"
    target.mkdir(parents=True)
    units = [shutil.copy(unit, target) for unit in sorted(UNITS.glob("*.service"))]
    assert len(units) == 3
    result = subprocess.run(["systemd-analyze", "verify", f"--root={tmp_path}", *map(str, units)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert (result.returncode, result.stderr) == (0, "")
