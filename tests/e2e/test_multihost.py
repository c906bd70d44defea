"""The several-host shape on one machine, with JSON logs.

The Spread daemon, the gateway, two processors and the responder each run as
a process of their own, started as an operator starts them on separate hosts
(``spreadgate spreadd``, ``spreadgate gateway`` …), every component connected
to the daemon over TCP as ``PORT@127.0.0.1`` and logging with
``--log-format json``; the gateway and the responder share a PostgreSQL
database, the processors have none.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from spreadgate.supervisor import READY_PREFIX
from tests.e2e.conftest import FINAL
from tests.e2e.crashkit import Cluster, Proc
from tests.gateway.running import wait_until
from tests.responder.support import PostgresDatabase

DEADLINE_S = 120.0
DOCUMENT = "testWORD.doc"
# What the daemon and the gateway print on stdout when ready, for whoever waits for it: not log lines.
ANNOUNCEMENTS = ("spread daemon ready on ", READY_PREFIX)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with PostgresDatabase.created() as database:
        yield database.url


@pytest.fixture
def cluster(tmp_path: Path, postgres_url: str) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path, db_url=postgres_url, log_format="json")
    cluster.start()
    try:
        yield cluster
    finally:
        assert cluster.stop() == [], "components did not stop cleanly"


def log_entries(proc: Proc) -> list[dict[str, Any]]:
    """Every line ``proc`` wrote, each parsed as one JSON object (the ready announcements aside)."""
    lines = [line for line in proc.log.read_text().splitlines() if line and not line.startswith(ANNOUNCEMENTS)]
    return [json.loads(line) for line in lines]


def health(cluster: Cluster) -> dict[str, Any]:
    body: dict[str, Any] = requests.get(f"{cluster.url}/_/healthz", timeout=10).json()
    return body


def upload_row(cluster: Cluster, share_path: str) -> dict[str, Any] | None:
    reply = requests.get(f"{cluster.url}/_/api/uploads", params={"path": share_path}, timeout=10)
    reply.raise_for_status()
    rows = [row for row in reply.json()["uploads"] if row["state"] in FINAL]
    return rows[0] if rows else None


def test_separate_components_on_one_daemon_over_tcp_process_a_document_into_postgresql(
    cluster: Cluster, corpus: Path, expected: dict[str, dict[str, Any]], postgres_url: str
) -> None:
    # Both processors are in the group before the upload, as the gateway sees it.
    wait_until(lambda: health(cluster)["processors"]["count"] == 2, "the gateway to see both processors",
               DEADLINE_S)
    names = {member["name"] for member in health(cluster)["processors"]["members"]}
    assert len(names) == 2, names

    share_path = f"/crash/{DOCUMENT}"
    with (corpus / DOCUMENT).open("rb") as body:
        assert requests.put(cluster.url + share_path, data=body, timeout=60).status_code == 201
    wait_until(lambda: upload_row(cluster, share_path) is not None, "the upload to be processed", DEADLINE_S)
    row = upload_row(cluster, share_path)
    assert row is not None
    lines = expected[DOCUMENT]["antiword_lines"]
    assert (row["state"], row["lines"], row["converter"]) == ("processed", lines, "antiword"), row
    assert row["processor"] in names

    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT state, lines FROM uploaded_files WHERE id = :id"),
                                  {"id": row["id"]}).one()
    finally:
        engine.dispose()
    assert tuple(stored) == ("processed", lines)

    status = subprocess.run([sys.executable, "-m", "spreadgate", "status", "--url", cluster.url],
                            capture_output=True, text=True, timeout=60, check=False)
    assert status.returncode == 0, status.stderr
    assert "processors connected: 2" in status.stdout
    assert all(f"  {name} on " in status.stdout for name in names), status.stdout

    logs = stop_and_read_logs(cluster)
    for (component, _), entries in logs.items():
        assert entries, f"{component} logged nothing"
        assert {entry["component"] for entry in entries} == {component}
        about = [entry for entry in entries if f"upload {row['id']}:" in entry["message"]]
        assert all(entry.get("upload_id") == row["id"] for entry in about), about
        assert all(entry["message"].startswith(f"upload {entry['upload_id']}:")
                   for entry in entries if "upload_id" in entry)
    mentions = {key: [e for e in entries if e.get("upload_id") == row["id"]] for key, entries in logs.items()}
    assert mentions[("gateway", cluster.gateway.name)] and mentions[("responder", cluster.responder.name)]
    converted = [e for (component, _), found in mentions.items() if component == "processor"
                 for e in found if "converted by antiword" in e["message"]]
    assert len(converted) == 1, converted


def stop_and_read_logs(cluster: Cluster) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Stop every component and the daemon, so that their last lines are written, and parse
    each one's log, keyed by (component, process name)."""
    assert cluster.stop() == [], "components did not stop cleanly"
    procs = [("spreadd", cluster.daemon), ("gateway", cluster.gateway), ("responder", cluster.responder),
             *(("processor", proc) for proc in cluster.processors)]
    return {(component, proc.name): log_entries(proc) for component, proc in procs}
