"""``python -m spread.daemon`` as a subprocess: ready line, service, clean stop on SIGTERM and Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

import spread
from spread.daemon import DaemonConfig
from spread.errors import DaemonConfigError

from .helpers import WAIT


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_daemon_cli_serves_and_stops_cleanly_on_a_signal(
    sig: signal.Signals,
) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "spread.daemon",
            "--port",
            "0",
            "--no-unix",
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("spread daemon ready on ")
        with spread.connect(line.split()[-1], "cli", 0, 1) as box:
            box.join("g")
            assert isinstance(box.receive(timeout=WAIT), spread.MembershipMessage)
        proc.send_signal(sig)
        assert proc.wait(WAIT) == 0
    finally:
        proc.kill()
        proc.wait(WAIT)


def test_the_daemon_cli_refuses_a_bad_configuration_with_exit_code_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "spread.daemon", "--port", "0", "--name", "bad#name"],
        capture_output=True,
        check=False,
        text=True,
        timeout=WAIT,
    )
    assert result.returncode == 2
    assert "daemon name" in result.stderr


def test_a_config_lists_every_problem_at_once() -> None:
    with pytest.raises(DaemonConfigError) as info:
        DaemonConfig(port=70000, name="x" * 20, allow=("not-a-net",), max_sessions=0)
    text = info.value.text
    for fragment in ("port 70000", "daemon name", "max_sessions", "allow"):
        assert fragment in text
