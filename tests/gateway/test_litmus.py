"""litmus, the WebDAV compliance suite, against a real gateway: every suite passes in full."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.auth import password_hash
from tests.gateway.running import RunningGateway, embedded_daemon, running_gateway

SUITES = ("basic", "copymove", "props", "locks", "http")
SUMMARY = re.compile(r"summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed")


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[RunningGateway]:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address) as running:
        yield running


def run_litmus(url: str, cwd: Path, *credentials: str) -> dict[str, tuple[int, int, int]]:
    """Run every litmus suite; print and return ``{suite: (run, passed, failed)}``."""
    litmus = shutil.which("litmus")
    if litmus is None:
        pytest.fail("litmus is not installed (Debian package 'litmus'; .ci/setup installs it)")
    result = subprocess.run([litmus, f"{url}/", *credentials], capture_output=True, text=True,
                            timeout=600, cwd=cwd, check=False)
    counts = {m[1]: (int(m[2]), int(m[3]), int(m[4])) for m in SUMMARY.finditer(result.stdout)}
    for suite, (ran, passed, failed) in counts.items():
        print(f"litmus {suite}: {ran} run, {passed} passed, {failed} failed")
    assert set(counts) == set(SUITES), result.stdout[-3000:] + result.stderr[-2000:]
    return counts


def test_litmus_passes_every_test_of_every_suite(gateway: RunningGateway, tmp_path: Path) -> None:
    counts = run_litmus(gateway.url, tmp_path)
    failures = {suite: failed for suite, (_ran, _passed, failed) in counts.items() if failed}
    assert failures == {}
    assert all(passed == ran > 0 for ran, passed, _failed in counts.values())


def test_litmus_passes_every_suite_as_a_signed_in_user(tmp_path: Path) -> None:
    users = {"lit": {"password_hash": password_hash("lit", "mus-secret")}}
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address,
                                                      users=users) as gateway:
        counts = run_litmus(gateway.url, tmp_path, "lit", "mus-secret")
    assert {suite: failed for suite, (_ran, _passed, failed) in counts.items()} == dict.fromkeys(SUITES, 0)
