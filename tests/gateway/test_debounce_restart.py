"""Writes still pending when the gateway stops are forwarded after it starts again; nothing is lost."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import requests

from gateway.debounce import Written
from tests.gateway.replay import sha
from tests.gateway.running import embedded_daemon, running_gateway

LONG_QUIET_S = 30.0


def test_a_write_pending_at_shutdown_is_forwarded_after_the_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with embedded_daemon() as daemon:
        with running_gateway(data, daemon.address, gateway_quiet_period_s=LONG_QUIET_S) as gw:
            assert requests.put(f"{gw.url}/late.doc", data=b"accepted", timeout=10).status_code == 201
            assert requests.put(f"{gw.url}/~$late.doc", data=b"owner", timeout=10).status_code == 201
            assert list(gw.parts.settler.debouncer.pending) == ["/late.doc"]
        assert (data / "state" / "pending.jsonl").exists()
        with running_gateway(data, daemon.address) as gw:
            assert [(r.path, r.sha256) for r in gw.settled()] == [("/late.doc", sha(b"accepted"))]


def test_a_settled_path_is_not_forwarded_again_after_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with embedded_daemon() as daemon:
        with running_gateway(data, daemon.address) as gw:
            requests.put(f"{gw.url}/once.doc", data=b"once", timeout=10)
            assert len(gw.settled()) == 1
        with running_gateway(data, daemon.address) as gw:
            assert requests.put(f"{gw.url}/once.doc", data=b"once", timeout=10).status_code == 204
            assert len(gw.settled()) == 1


def test_settling_that_fails_is_retried_until_it_succeeds(tmp_path: Path) -> None:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address) as gw:
        intake = gw.parts.settler.settle
        failures: list[str] = []

        def flaky(candidates: Sequence[tuple[str, Written | None]]) -> set[str]:
            if not failures:
                failures.extend(path for path, _ in candidates)
                raise OSError("disk briefly unavailable")
            return intake(candidates)

        gw.parts.settler.settle = flaky
        requests.put(f"{gw.url}/retry.doc", data=b"retry", timeout=10)
        assert [r.path for r in gw.settled()] == ["/retry.doc"] and failures == ["/retry.doc"]
