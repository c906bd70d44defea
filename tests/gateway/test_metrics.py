"""``/_/metrics`` and ``/_/healthz`` of a real gateway report its uploads, its daemon and its processors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from gateway.web.metrics import healthz, metrics_page
from processor.service import run as run_processor
from spread.daemon import Daemon
from spreadgate import db
from tests.gateway.running import (
    RunningGateway,
    embedded_daemon,
    running_gateway,
    wait_until,
)
from tests.pipeline_parts import component, conf


def scrape(gw: RunningGateway) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/_/metrics``, keyed by name and labels, parsed by the Prometheus client."""
    reply = requests.get(f"{gw.url}/_/metrics", timeout=10)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(reply.text) for s in family.samples}


def health(gw: RunningGateway) -> tuple[int, dict[str, Any]]:
    reply = requests.get(f"{gw.url}/_/healthz", timeout=10)
    return reply.status_code, reply.json()


def form_upload(gw: RunningGateway, name: str, data: bytes) -> None:
    reply = requests.post(f"{gw.url}/_/upload", files=[("file", (name, data, "application/msword"))],
                          headers={"Accept": "application/json"}, timeout=30)
    assert reply.status_code == 201, reply.text


def test_the_metrics_parse_and_count_each_upload_and_its_bytes(tmp_path: Path) -> None:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address) as gw:
        before = scrape(gw)
        assert before[("spreadgate_uploads", (("state", "sent"),))] == 0
        assert before[("spreadgate_received_bytes_total", ())] == 0
        form_upload(gw, "one.doc", b"first document")
        form_upload(gw, "two.doc", b"second one")
        wait_until(lambda: scrape(gw)[("spreadgate_uploads", (("state", "sent"),))] == 2, "two sent uploads")
        after = scrape(gw)
    assert after[("spreadgate_received_bytes_total", ())] == len(b"first document") + len(b"second one")
    assert after[("spreadgate_queue_depth", ())] == 2
    assert after[("spreadgate_uploads", (("state", "processed"),))] == 0
    assert after[("spreadgate_conversion_duration_seconds_count", ())] == 0
    assert after[("spreadgate_database_up", ())] == 1
    assert after[("spreadgate_spread_connected", ())] == 1


def test_healthz_counts_the_processors_that_are_really_connected(tmp_path: Path) -> None:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address) as gw:
        wait_until(lambda: health(gw)[1]["spread"]["ok"], "the gateway to reach its daemon")
        status, body = health(gw)
        assert (status, body["status"], body["database"], body["processors"]["count"]) == (
            200, "degraded", {"ok": True}, 0)
        with component(run_processor, conf(daemon.address)):
            wait_until(lambda: health(gw)[1]["processors"]["count"] == 1, "the processor to be seen")
            status, body = health(gw)
            [member] = body["processors"]["members"]
            assert (status, body["status"]) == (200, "ok")
            assert member["name"].startswith("#p") and member["host"]
            assert scrape(gw)[("spreadgate_processors", ())] == 1
        wait_until(lambda: health(gw)[1]["processors"]["count"] == 0, "the processor to be gone")


def test_a_lost_daemon_shows_in_healthz_and_its_return_counts_as_a_reconnect(tmp_path: Path) -> None:
    first = Daemon(port=0).start()
    try:
        with running_gateway(tmp_path / "data", first.address) as gw:
            wait_until(lambda: health(gw)[1]["spread"]["ok"], "the gateway to reach its daemon")
            assert scrape(gw)[("spreadgate_spread_reconnects_total", ())] == 0
            first.stop()
            wait_until(lambda: not health(gw)[1]["spread"]["ok"], "the gateway to notice the daemon is gone")
            status, body = health(gw)
            assert (status, body["status"]) == (200, "degraded")
            assert scrape(gw)[("spreadgate_spread_connected", ())] == 0
            with embedded_daemon(first.port):
                wait_until(lambda: health(gw)[1]["spread"]["ok"], "the gateway to reconnect")
                assert scrape(gw)[("spreadgate_spread_reconnects_total", ())] >= 1
    finally:
        first.stop()


@dataclass
class Unreachable:
    """A context whose database is a PostgreSQL URL on a port where nothing listens."""

    sessions: sessionmaker[Session]


def test_healthz_answers_503_with_the_reason_when_the_database_does_not_answer() -> None:
    engine = db.make_engine("postgresql+psycopg://postgres@127.0.0.1:9/nothing?connect_timeout=5")
    try:
        response = healthz(Unreachable(db.sessions(engine)))  # type: ignore[arg-type]
    finally:
        engine.dispose()
    assert response.status == 503
    body = json.loads(response.body)
    assert body["status"] == "down" and body["database"]["ok"] is False and body["database"]["error"]
    assert body["processors"]["count"] == 0


def test_the_metrics_still_answer_and_say_the_database_is_down_when_it_does_not_answer() -> None:
    engine = db.make_engine("postgresql+psycopg://postgres@127.0.0.1:9/nothing?connect_timeout=5")
    try:
        response = metrics_page(Unreachable(db.sessions(engine)))  # type: ignore[arg-type]
    finally:
        engine.dispose()
    assert response.status == 200
    families = {f.name: f for f in text_string_to_metric_families(response.body.decode())}
    assert families["spreadgate_database_up"].samples[0].value == 0
    assert "spreadgate_uploads" not in families
