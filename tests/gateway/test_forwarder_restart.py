"""A gateway started again on the same data folder sends what the previous run recorded but never sent."""

from __future__ import annotations

from pathlib import Path

import requests

import spread
from spreadgate.wire import UPLOAD_GROUP
from tests.gateway.running import embedded_daemon, running_gateway, wait_until
from tests.gateway.test_forwarder import receive_stream


def test_uploads_recorded_before_a_restart_are_sent_by_the_next_run(tmp_path: Path) -> None:
    with embedded_daemon() as probe:
        port = probe.port  # a port where no daemon listens during the first run
    data = tmp_path / "data"
    with running_gateway(data, f"{port}@127.0.0.1") as first:
        assert requests.put(f"{first.url}/carried.doc", data=b"carried over", timeout=10).status_code == 201
        assert [r.state for r in first.settled()] == ["received"]
    with embedded_daemon(port) as daemon:
        listener = spread.connect(daemon.address, "t5", 0, 0)
        listener.join(UPLOAD_GROUP)
        with running_gateway(data, daemon.address) as second:
            head, header, received = receive_stream(listener, tmp_path)
            wait_until(lambda: [r.state for r in second.rows()] == ["sent"], "the carried upload to be sent")
        listener.disconnect()
    assert (header.path, received, head.attempt) == ("/carried.doc", b"carried over", 1)
