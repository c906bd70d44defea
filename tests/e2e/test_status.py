"""A person watches a running spreadgate: ``spreadgate status``, the metrics and the health report."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Gateway, free_port


def status(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spreadgate", "status", *args],
                          capture_output=True, text=True, timeout=60, check=False)


def processed_document(gateway: Gateway, corpus: Path) -> dict[str, Any]:
    with (corpus / "testWORD.doc").open("rb") as body:
        assert requests.put(f"{gateway.url}/testWORD.doc", data=body, timeout=60).status_code == 201
    [row] = gateway.wait_rows(1, path="/testWORD.doc")
    return gateway.wait_final({row["id"]})[row["id"]]


def test_spreadgate_status_lists_the_processed_upload_and_the_connected_processor(
    gateway_factory: Any, corpus: Path, tmp_path: Path
) -> None:
    gateway = gateway_factory(f"sqlite:///{tmp_path / 'db.sqlite'}")
    row = processed_document(gateway, corpus)
    result = status("--url", gateway.url)
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if "/testWORD.doc" in line]
    assert line.split()[:4] == [str(row["id"]), "processed", "60", "antiword"]
    assert "processors connected: 1" in result.stdout
    assert "database: ok" in result.stdout
    as_json = status("--url", gateway.url, "--json")
    report = json.loads(as_json.stdout)
    assert [u["path"] for u in report["uploads"]] == ["/testWORD.doc"]
    assert report["health"]["processors"]["count"] == 1


def test_the_metrics_of_a_running_spreadgate_count_the_processed_upload_and_its_conversion_time(
    gateway_factory: Any, corpus: Path, tmp_path: Path
) -> None:
    gateway = gateway_factory(f"sqlite:///{tmp_path / 'db.sqlite'}")
    row = processed_document(gateway, corpus)
    assert row["state"] == "processed", row
    deadline = time.monotonic() + 20
    while True:  # the gateway's processor watcher may still be joining under load
        text = requests.get(f"{gateway.url}/_/metrics", timeout=10).text
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for family in text_string_to_metric_families(text) for s in family.samples}
        if samples[("spreadgate_processors", ())] == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert samples[("spreadgate_uploads", (("state", "processed"),))] == 1
    assert samples[("spreadgate_conversion_duration_seconds_count", ())] == 1
    assert samples[("spreadgate_conversion_duration_seconds_sum", ())] == row["duration_ms"] / 1000
    assert samples[("spreadgate_conversion_duration_seconds_bucket", (("le", "+Inf"),))] == 1
    assert samples[("spreadgate_received_bytes_total", ())] == (corpus / "testWORD.doc").stat().st_size
    assert samples[("spreadgate_queue_depth", ())] == 0
    assert samples[("spreadgate_processors", ())] == 1


def test_spreadgate_status_says_so_and_fails_when_no_gateway_answers() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = status("--url", url)
    assert result.returncode == 3
    assert f"cannot reach the gateway at {url}" in result.stderr
    assert result.stdout == ""
