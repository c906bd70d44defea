"""The forwarder's send-only session keeps reading, so stray traffic to it never gets it cut off."""

from __future__ import annotations

from pathlib import Path

import requests

import spread
from tests.gateway.running import embedded_daemon, running_gateway, wait_until

# Far more than the daemon queues for a member that does not read (it cuts one off at hundreds).
FLOOD = 5000
PIECE = b"s" * 4000


def test_messages_sent_to_the_forwarders_private_group_are_drained_and_it_stays_connected(tmp_path: Path) -> None:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address) as gw:
        assert requests.put(f"{gw.url}/first.doc", data=b"first", timeout=10).status_code == 201
        wait_until(lambda: [r.state for r in gw.rows()] == ["sent"], "the first upload to be sent")
        sender = gw.forwarder._mbox
        assert sender is not None
        stray = spread.connect(daemon.address, "stray", 0, 0)
        for _ in range(FLOOD):
            stray.multicast(spread.AGREED_MESS, sender.private_group, PIECE, 0)
        drain = gw.forwarder._drain
        assert drain is not None
        wait_until(lambda: drain.dropped == FLOOD, "the forwarder to read every stray message")
        stray.disconnect()
        assert requests.put(f"{gw.url}/second.doc", data=b"second", timeout=10).status_code == 201
        wait_until(lambda: [r.state for r in gw.rows()] == ["sent", "sent"], "the second upload to be sent")
        assert gw.forwarder._mbox is sender
        assert gw.forwarder.stats.reconnects == 0
